-- Raw interactions: one row per valid, de-duplicated event, for analysts' drill-down.
-- Columns mirror the event contract (streams/events.py); tests/unit/test_schema_contract.py
-- fails if the two drift apart.
CREATE TABLE IF NOT EXISTS interactions
(
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
    kafka_partition UInt16,
    kafka_offset UInt64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
-- Monthly partitions by event time: drill-downs always name a period, so whole months are
-- pruned, and a month is a unit small enough to drop or re-load on its own.
PARTITION BY toYYYYMM(occurred_at)
-- Drill-down filters by tenant first, then a time range, then industry/channel; journey_id
-- last so one journey's rows sit together when an analyst follows a journey.
ORDER BY (tenant, toStartOfHour(occurred_at), industry, channel, journey_id)
-- At 10 billion events a year raw rows are terabytes: keep 400 days after ingestion (enough
-- for a year-over-year drill-down), long after that the hourly rollups answer every question.
-- TTL on ingestion time, not event time, so a backfill of old years is not deleted on arrival.
TTL toDateTime(ingested_at) + INTERVAL 400 DAY
-- Insert de-duplication: the worker tags each batch with a token built from topic, partition
-- and offsets, so a batch retried after a timeout is stored once.
SETTINGS non_replicated_deduplication_window = 10000;
