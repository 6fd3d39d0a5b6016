-- The worker writes every flush as ONE insert into ingest_facts (ENGINE = Null: nothing is
-- stored there); materialised views fan that block out into the raw table, the rollups, the
-- dead letters and the per-partition progress. Why one insert: the offsets a flush covers
-- (ingest_progress) and the data they produced travel together, and one insert token
-- (topic/partition offset ranges) de-duplicates a retried flush in every target table
-- (deduplicate_blocks_in_dependent_materialized_views, on by default). See
-- docs/exactly-once.md.
--
-- fact says what a row is:
--   interaction  a valid, first-seen event (contract columns)
--   read_pair    a message send joined with its first read signal: occurred_at, dimensions
--                and purpose of the send, read_signal of the receipt, duration_ms = latency
--   journey      a journey first seen (journeys = 1) and/or a channel new to it
--                (journey_channels); occurred_at = the journey's first-seen event time
--   dead_letter  a record that broke the contract: reason, code, original bytes
--   progress     one per partition per flush: last offset, event-time watermark, counters
CREATE TABLE IF NOT EXISTS ingest_facts
(
    fact LowCardinality(String),
    event_id String,
    schema_version UInt8,
    kind LowCardinality(String),
    occurred_at DateTime64(3, 'UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    journey_id String,
    customer_id String,
    direction LowCardinality(String),
    duration_s Float64,
    outcome LowCardinality(String),
    purpose LowCardinality(String),
    message_id String,
    status LowCardinality(String),
    read_signal LowCardinality(String),
    handed_off Bool,
    kafka_topic LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset UInt64,
    kafka_timestamp DateTime64(3, 'UTC'),
    late UInt8,
    duration_ms UInt64,
    bucket_s UInt32,
    journeys UInt8,
    journey_channels UInt8,
    reason String,
    code LowCardinality(String),
    original String,
    watermark DateTime64(3, 'UTC'),
    events UInt32,
    dead UInt32,
    duplicates UInt32,
    late_events UInt32,
    lag Int64,
    worker LowCardinality(String)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_interactions TO interactions AS
SELECT
    event_id, schema_version, kind, occurred_at, tenant, industry, use_case, channel,
    journey_id, customer_id, direction, duration_s, outcome, purpose, message_id, status,
    read_signal, handed_off, kafka_partition, kafka_offset
FROM ingest_facts
WHERE fact = 'interaction';

-- Interaction counts: channel mix, use-case shares, year-over-year growth.
CREATE TABLE IF NOT EXISTS rollup_interactions_hourly
(
    hour DateTime('UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    kind LowCardinality(String),
    interactions UInt64,
    late UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every dashboard question compares whole years, and a year of hourly
-- rows is small enough to be one unit to drop or rebuild.
PARTITION BY toYear(hour)
-- The summing key is every dimension; tenant first because each brand reads only its own
-- rows, then the filters the dashboard offers, hour last for range scans within them.
ORDER BY (tenant, industry, use_case, channel, kind, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_interactions_hourly
TO rollup_interactions_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case, channel, kind,
    count() AS interactions, sum(late) AS late
FROM ingest_facts
WHERE fact = 'interaction'
GROUP BY hour, tenant, industry, use_case, channel, kind;

-- The same per minute, for the Live page: only events of the last two days are written here.
CREATE TABLE IF NOT EXISTS rollup_interactions_minute
(
    minute DateTime('UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    kind LowCardinality(String),
    interactions UInt64,
    late UInt64
)
ENGINE = SummingMergeTree
-- Daily partitions so the TTL below drops whole days instead of rewriting parts.
PARTITION BY toDate(minute)
-- The Live page reads the last hour for one tenant: tenant, then time.
ORDER BY (tenant, minute, industry, use_case, channel, kind)
-- Minute detail matters for the last day only; the hourly rollup keeps the history.
TTL minute + INTERVAL 2 DAY
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_interactions_minute
TO rollup_interactions_minute AS
SELECT
    toStartOfMinute(occurred_at) AS minute, tenant, industry, use_case, channel, kind,
    count() AS interactions, sum(late) AS late
FROM ingest_facts
WHERE fact = 'interaction' AND occurred_at >= now() - INTERVAL 2 DAY
GROUP BY minute, tenant, industry, use_case, channel, kind;

-- Voice: IVR calls (outcome) and notification calls (purpose), with a duration histogram
-- (duration_bucket_s = lower bound of the bucket, streams/logic/buckets.py) for p50/p90.
CREATE TABLE IF NOT EXISTS rollup_calls_hourly
(
    hour DateTime('UTC'),
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
-- Yearly partitions: voice is compared year over year.
PARTITION BY toYear(hour)
-- Summing key = every dimension; tenant first, then what the Voice page filters by.
ORDER BY (tenant, industry, kind, use_case, outcome, purpose, duration_bucket_s, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_calls_hourly TO rollup_calls_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case, kind, outcome, purpose,
    bucket_s AS duration_bucket_s, count() AS calls, sum(duration_ms) AS duration_ms,
    sum(late) AS late
FROM ingest_facts
WHERE fact = 'interaction' AND kind IN ('ivr_call', 'notification_call')
GROUP BY hour, tenant, industry, use_case, kind, outcome, purpose, duration_bucket_s;

-- Messaging: sends (by purpose), receipts (by status and read signal), and read pairs (a send
-- joined with its first read signal, in the send's hour) with a latency histogram.
CREATE TABLE IF NOT EXISTS rollup_messaging_hourly
(
    hour DateTime('UTC'),
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
-- Yearly partitions: messaging volume is compared year over year.
PARTITION BY toYear(hour)
-- Summing key = every dimension; tenant first, then the Messaging page's filters.
ORDER BY (tenant, industry, channel, use_case, purpose, status, read_signal, latency_bucket_s,
    hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_messaging_hourly TO rollup_messaging_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case, channel,
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
GROUP BY hour, tenant, industry, use_case, channel, purpose, status, read_signal,
    latency_bucket_s;

-- Journeys: how many, and how many distinct channels they used (average = channels/journeys),
-- in the hour of the journey's first-seen event.
CREATE TABLE IF NOT EXISTS rollup_journeys_hourly
(
    hour DateTime('UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    journeys UInt64,
    channels UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: channels per journey is compared year over year.
PARTITION BY toYear(hour)
-- Summing key = every dimension; tenant first.
ORDER BY (tenant, industry, use_case, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_journeys_hourly TO rollup_journeys_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case,
    sum(journeys) AS journeys, sum(journey_channels) AS channels
FROM ingest_facts
WHERE fact = 'journey'
GROUP BY hour, tenant, industry, use_case;

-- Chatbot sessions and how many were handed to a human.
CREATE TABLE IF NOT EXISTS rollup_chatbot_hourly
(
    hour DateTime('UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    sessions UInt64,
    handed_off UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: hand-off rate is compared year over year.
PARTITION BY toYear(hour)
-- Summing key = every dimension; tenant first.
ORDER BY (tenant, industry, use_case, channel, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_chatbot_hourly TO rollup_chatbot_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case, channel,
    count() AS sessions, countIf(handed_off) AS handed_off
FROM ingest_facts
WHERE fact = 'interaction' AND kind = 'chatbot_session'
GROUP BY hour, tenant, industry, use_case, channel;

-- Records that broke the contract, exactly once each (the dead-letter topic is at least once:
-- its consumers de-duplicate on topic/partition/offset, which every dead letter carries).
CREATE TABLE IF NOT EXISTS dead_letters
(
    received_at DateTime64(3, 'UTC'),
    kafka_topic LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset UInt64,
    code LowCardinality(String),
    reason String,
    original String
)
ENGINE = MergeTree
-- Monthly partitions by arrival: dead letters are investigated by when they came in.
PARTITION BY toYYYYMM(received_at)
-- Counted and browsed by reason code, then time.
ORDER BY (code, received_at)
-- A dead letter is worth looking at for a quarter; after that only its count matters, and the
-- original bytes may hold data a producer should not have sent.
TTL toDateTime(received_at) + INTERVAL 90 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_dead_letters TO dead_letters AS
SELECT
    kafka_timestamp AS received_at, kafka_topic, kafka_partition, kafka_offset, code, reason,
    original
FROM ingest_facts
WHERE fact = 'dead_letter';

-- Where each partition stands: the last offset whose effects ClickHouse holds, and the
-- event-time watermark after it. The worker reads this on partition assignment and skips
-- everything at or below the offset, which is what makes a replay harmless.
CREATE TABLE IF NOT EXISTS ingest_progress
(
    kafka_topic LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset UInt64,
    watermark DateTime64(3, 'UTC'),
    flushed_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(kafka_offset)
-- One row per partition survives merges (the highest offset); readers still take max().
ORDER BY (kafka_topic, kafka_partition)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_ingest_progress TO ingest_progress AS
SELECT kafka_topic, kafka_partition, kafka_offset, watermark, kafka_timestamp AS flushed_at
FROM ingest_facts
WHERE fact = 'progress';

-- Pipeline health, one row per partition per flush: what the Live page shows as freshness.
CREATE TABLE IF NOT EXISTS pipeline_health
(
    flushed_at DateTime64(3, 'UTC'),
    worker LowCardinality(String),
    kafka_topic LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset UInt64,
    watermark DateTime64(3, 'UTC'),
    events UInt32,
    dead UInt32,
    duplicates UInt32,
    late_events UInt32,
    lag Int64
)
ENGINE = MergeTree
-- Daily partitions so the TTL drops whole days.
PARTITION BY toDate(flushed_at)
-- Read as "latest per partition" and "rate over the last minutes".
ORDER BY (kafka_topic, kafka_partition, flushed_at)
-- A week of flush history is enough to see a trend; progress itself lives in ingest_progress.
TTL toDateTime(flushed_at) + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 10000, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_pipeline_health TO pipeline_health AS
SELECT
    kafka_timestamp AS flushed_at, worker, kafka_topic, kafka_partition, kafka_offset,
    watermark, events, dead, duplicates, late_events, lag
FROM ingest_facts
WHERE fact = 'progress';
