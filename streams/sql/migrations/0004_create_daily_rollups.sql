-- Daily rollups: the same measures as the hourly ones, one row per day. Every dashboard
-- question is about days, months and years; at 10 billion interactions a year the hourly
-- rollups hold tens to hundreds of millions of rows over three years (one row per hour and
-- histogram bin), the daily ones 24 times fewer, which is what keeps the named queries under
-- 100 ms (tests/bench/bench_queries.py). The hourly tables stay for hour-level drill-down.
--
-- Written by materialised views on ingest_facts, like the hourly ones: the same insert (and
-- the same insert_deduplication_token) lands in both, so they are exact together.
--
-- Run with the workers stopped (as every migration): the backfill at the end copies what the
-- hourly tables already hold, and a batch landing between the views' creation and the copy
-- would be counted twice.

CREATE TABLE IF NOT EXISTS rollup_interactions_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    kind LowCardinality(String),
    interactions UInt64,
    late UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: queries compare whole years, so a period prunes to one or two of them.
PARTITION BY toYear(day)
-- Summing key = every dimension; tenant first (each brand reads its own rows), day last.
ORDER BY (tenant, industry, use_case, channel, kind, day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_interactions_daily
TO rollup_interactions_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case, channel, kind,
    count() AS interactions, sum(late) AS late
FROM ingest_facts
WHERE fact = 'interaction'
GROUP BY day, tenant, industry, use_case, channel, kind;

CREATE TABLE IF NOT EXISTS rollup_calls_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    kind LowCardinality(String),
    outcome LowCardinality(String),
    purpose LowCardinality(String),
    duration_bucket_s UInt32,
    calls UInt64,
    duration_ms UInt64,
    late UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(day)
-- kind before industry: every Voice query picks one kind (IVR or notification calls).
ORDER BY (kind, tenant, industry, use_case, outcome, purpose, duration_bucket_s, day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_calls_daily TO rollup_calls_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case, kind, outcome, purpose,
    bucket_s AS duration_bucket_s, count() AS calls, sum(duration_ms) AS duration_ms,
    sum(late) AS late
FROM ingest_facts
WHERE fact = 'interaction' AND kind IN ('ivr_call', 'notification_call')
GROUP BY day, tenant, industry, use_case, kind, outcome, purpose, duration_bucket_s;

CREATE TABLE IF NOT EXISTS rollup_messaging_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    purpose LowCardinality(String),
    status LowCardinality(String),
    read_signal LowCardinality(String),
    latency_bucket_s UInt32,
    sends UInt64,
    receipts UInt64,
    read_pairs UInt64,
    read_latency_ms UInt64,
    read_within_3_min UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(day)
-- Summing key = every dimension; tenant first, day last for range scans.
ORDER BY (tenant, industry, channel, use_case, purpose, status, read_signal, latency_bucket_s,
    day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_messaging_daily TO rollup_messaging_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case, channel,
    if(kind = 'message_sent' OR fact = 'read_pair', purpose, '') AS purpose,
    if(fact = 'read_pair', '', status) AS status,
    read_signal,
    if(fact = 'read_pair', bucket_s, 0) AS latency_bucket_s,
    countIf(fact = 'interaction' AND kind = 'message_sent') AS sends,
    countIf(fact = 'interaction' AND kind = 'message_receipt') AS receipts,
    countIf(fact = 'read_pair') AS read_pairs,
    sumIf(duration_ms, fact = 'read_pair') AS read_latency_ms,
    countIf(fact = 'read_pair' AND duration_ms <= 180000) AS read_within_3_min
FROM ingest_facts
WHERE (fact = 'interaction' AND kind IN ('message_sent', 'message_receipt'))
    OR fact = 'read_pair'
GROUP BY day, tenant, industry, use_case, channel, purpose, status, read_signal,
    latency_bucket_s;

CREATE TABLE IF NOT EXISTS rollup_journeys_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    journeys UInt64,
    channels UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(day)
-- Summing key = every dimension; tenant first, day last for range scans.
ORDER BY (tenant, industry, use_case, day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_journeys_daily TO rollup_journeys_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case,
    sum(journeys) AS journeys, sum(journey_channels) AS channels
FROM ingest_facts
WHERE fact = 'journey'
GROUP BY day, tenant, industry, use_case;

CREATE TABLE IF NOT EXISTS rollup_chatbot_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    sessions UInt64,
    handed_off UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(day)
-- Summing key = every dimension; tenant first, day last for range scans.
ORDER BY (tenant, industry, use_case, channel, day)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_chatbot_daily TO rollup_chatbot_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case, channel,
    count() AS sessions, countIf(handed_off) AS handed_off
FROM ingest_facts
WHERE fact = 'interaction' AND kind = 'chatbot_session'
GROUP BY day, tenant, industry, use_case, channel;

-- Backfill from the hourly rollups (a fresh database copies nothing). Each copy runs only
-- into an empty daily table, so re-running the file after a failure does not count twice.
INSERT INTO rollup_interactions_daily
SELECT toDate(hour) AS day, tenant, industry, use_case, channel, kind,
    sum(interactions), sum(late)
FROM rollup_interactions_hourly
WHERE (SELECT count() FROM rollup_interactions_daily) = 0
GROUP BY day, tenant, industry, use_case, channel, kind;

INSERT INTO rollup_calls_daily
SELECT toDate(hour) AS day, tenant, industry, use_case, kind, outcome, purpose,
    duration_bucket_s, sum(calls), sum(duration_ms), sum(late)
FROM rollup_calls_hourly
WHERE (SELECT count() FROM rollup_calls_daily) = 0
GROUP BY day, tenant, industry, use_case, kind, outcome, purpose, duration_bucket_s;

INSERT INTO rollup_messaging_daily
SELECT toDate(hour) AS day, tenant, industry, use_case, channel, purpose, status, read_signal,
    latency_bucket_s, sum(sends), sum(receipts), sum(read_pairs), sum(read_latency_ms),
    sum(read_within_3_min)
FROM rollup_messaging_hourly
WHERE (SELECT count() FROM rollup_messaging_daily) = 0
GROUP BY day, tenant, industry, use_case, channel, purpose, status, read_signal,
    latency_bucket_s;

INSERT INTO rollup_journeys_daily
SELECT toDate(hour) AS day, tenant, industry, use_case, sum(journeys), sum(channels)
FROM rollup_journeys_hourly
WHERE (SELECT count() FROM rollup_journeys_daily) = 0
GROUP BY day, tenant, industry, use_case;

INSERT INTO rollup_chatbot_daily
SELECT toDate(hour) AS day, tenant, industry, use_case, channel, sum(sessions),
    sum(handed_off)
FROM rollup_chatbot_hourly
WHERE (SELECT count() FROM rollup_chatbot_daily) = 0
GROUP BY day, tenant, industry, use_case, channel;
