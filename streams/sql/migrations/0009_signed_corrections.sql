-- Corrections: "first" is first by event time, whatever the arrival order. A journey belongs
-- to the hour and cell of its earliest event, a read pair to a send and its earliest read
-- signal, a replied send to its earliest reply. When an event that arrives late turns out to be
-- the earlier one, the worker retracts what it counted (a row with sign -1, in the cell it
-- counted it in) and counts it again where it belongs (sign +1), in the same insert as the
-- event that moved it: a correction is replay-safe, de-duplicated and fenced like any row.
--
-- The rollups those rows reach sum signed counters: a part may hold a retraction whose
-- original sits in another part until they merge, and every read sums (docs/exactly-once.md).
-- Types change in place; ClickHouse converts the stored parts in the background, and reads
-- meanwhile convert on the fly.
ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS sign Int8 DEFAULT 1;

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS sign Int8 DEFAULT 1;

ALTER TABLE rollup_journeys_hourly
    MODIFY COLUMN journeys Int64, MODIFY COLUMN channels Int64;

ALTER TABLE rollup_journeys_daily
    MODIFY COLUMN journeys Int64, MODIFY COLUMN channels Int64;

ALTER TABLE rollup_messaging_hourly
    MODIFY COLUMN read_pairs Int64, MODIFY COLUMN read_latency_ms Int64,
    MODIFY COLUMN read_within_3_min Int64;

ALTER TABLE rollup_messaging_daily
    MODIFY COLUMN read_pairs Int64, MODIFY COLUMN read_latency_ms Int64,
    MODIFY COLUMN read_within_3_min Int64;

-- Replied sends (its view is streams/sql/views/rollup_replies.sql, which created these tables
-- until now: an installation that has them gets their counters signed, a new one creates them
-- signed).
CREATE TABLE IF NOT EXISTS rollup_replies_hourly
(
    hour DateTime('UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    purpose LowCardinality(String),
    replied_sends Int64,
    reply_latency_ms Int64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(hour)
-- Summing key = every dimension, time last, like every rollup.
ORDER BY (tenant, industry, use_case, channel, purpose, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS rollup_replies_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    purpose LowCardinality(String),
    replied_sends Int64,
    reply_latency_ms Int64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(day)
-- Summing key = every dimension, time last, like every rollup.
ORDER BY (tenant, industry, use_case, channel, purpose, day)
SETTINGS non_replicated_deduplication_window = 10000;

ALTER TABLE rollup_replies_hourly
    MODIFY COLUMN replied_sends Int64, MODIFY COLUMN reply_latency_ms Int64;

ALTER TABLE rollup_replies_daily
    MODIFY COLUMN replied_sends Int64, MODIFY COLUMN reply_latency_ms Int64;
