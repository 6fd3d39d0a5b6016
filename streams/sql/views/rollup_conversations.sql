-- Social and chat conversations (contract 1.1's conversation_id): each counted once, in the
-- period and cell of its opening (the customer's earliest message in it), with the brand's
-- first response (its earliest reply at or after the opening) by response-time bucket;
-- unanswered conversations count in conversations only. A conversation whose opening or
-- first response an event changes is retracted (sign -1) and counted again.
-- grains: hour, day
-- verify: sums
CREATE TABLE IF NOT EXISTS {table}
(
    {grain} {grain_type},
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    response_bucket_s UInt32,
    conversations Int64,
    answered Int64,
    answered_within_1h Int64,
    answered_within_24h Int64,
    response_ms Int64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear({grain})
-- Summing key = every dimension, time last, like every rollup.
ORDER BY (tenant, industry, use_case, channel, response_bucket_s, {grain})
SETTINGS non_replicated_deduplication_window = 10000;

SELECT
    {period}, tenant, industry, use_case, channel,
    if(status = 'answered', bucket_s, 0) AS response_bucket_s,
    sum(sign) AS conversations,
    sumIf(sign, status = 'answered') AS answered,
    sumIf(sign, status = 'answered' AND duration_ms <= 3600000) AS answered_within_1h,
    sumIf(sign, status = 'answered' AND duration_ms <= 86400000) AS answered_within_24h,
    sumIf(sign * duration_ms, status = 'answered') AS response_ms
FROM fenced_facts
WHERE fact = 'conversation'
GROUP BY ALL
