-- Replied sends: a message send and the first reply to it (a reply_proxy receipt, whether or
-- not it was the message's first read signal), counted once per message in the send's period,
-- cell, channel and purpose; reply_latency_ms sums the time from send to reply (0 if the
-- reply is stamped before the send). Sends are in rollup_messaging_*: replies / sends is the
-- reply rate (named query replied_sends_by_purpose).
-- grains: hour, day
-- verify: sums
CREATE TABLE IF NOT EXISTS {table}
(
    {grain} {grain_type},
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    purpose LowCardinality(String),
    replied_sends UInt64,
    reply_latency_ms UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions and the summing key last by time, like every rollup.
PARTITION BY toYear({grain})
ORDER BY (tenant, industry, use_case, channel, purpose, {grain})
SETTINGS non_replicated_deduplication_window = 10000;

SELECT
    {period}, tenant, industry, use_case, channel, purpose, count() AS replied_sends,
    sum(duration_ms) AS reply_latency_ms
FROM fenced_facts
WHERE fact = 'reply'
GROUP BY ALL
