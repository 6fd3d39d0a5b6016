-- Fence stale owners out of ClickHouse: a worker that lost its partitions (paused past the
-- consumer session timeout, or still finishing a batch during a rebalance) must not apply a
-- batch the new owner applies too.
--
-- On every assignment a worker takes a lease per partition: the partition's highest epoch
-- plus one, written to partition_leases before it reads ingest_progress. Every fact row it
-- inserts carries its epoch, and every view below applies a row only if its epoch is at
-- least the partition's newest lease. A stale owner's insert, arriving after the new owner
-- took its lease, is dropped row by row by the server itself, whenever it arrives (a retry
-- after minutes of SIGSTOP included); the new owner reads progress after taking the lease,
-- so whatever the old owner applied before is skipped, never counted twice.
--
-- Run with the workers stopped (as every migration): the views are dropped and re-created.

CREATE TABLE IF NOT EXISTS partition_leases
(
    kafka_topic LowCardinality(String),
    kafka_partition UInt16,
    epoch UInt64,
    worker LowCardinality(String),
    leased_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(epoch)
-- One row per partition survives merges (the newest lease); readers still take max().
ORDER BY (kafka_topic, kafka_partition);

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS epoch UInt64 DEFAULT 0;

DROP VIEW IF EXISTS mv_interactions;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_interactions TO interactions AS
SELECT
    event_id, schema_version, kind, occurred_at, tenant, industry, use_case, channel,
    journey_id, customer_id, direction, duration_s, outcome, purpose, message_id, status,
    read_signal, handed_off, kafka_partition, kafka_offset
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction');

DROP VIEW IF EXISTS mv_rollup_interactions_hourly;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_interactions_hourly
TO rollup_interactions_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case, channel, kind,
    count() AS interactions, sum(late) AS late
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction')
GROUP BY hour, tenant, industry, use_case, channel, kind;

DROP VIEW IF EXISTS mv_rollup_interactions_minute;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_interactions_minute
TO rollup_interactions_minute AS
SELECT
    toStartOfMinute(occurred_at) AS minute, tenant, industry, use_case, channel, kind,
    count() AS interactions, sum(late) AS late
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction' AND occurred_at >= now() - INTERVAL 2 DAY)
GROUP BY minute, tenant, industry, use_case, channel, kind;

DROP VIEW IF EXISTS mv_rollup_calls_hourly;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_calls_hourly TO rollup_calls_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case, kind, outcome, purpose,
    bucket_s AS duration_bucket_s, count() AS calls, sum(duration_ms) AS duration_ms,
    sum(late) AS late
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction' AND kind IN ('ivr_call', 'notification_call'))
GROUP BY hour, tenant, industry, use_case, kind, outcome, purpose, duration_bucket_s;

DROP VIEW IF EXISTS mv_rollup_messaging_hourly;

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
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND ((fact = 'interaction' AND kind IN ('message_sent', 'message_receipt'))
    OR fact = 'read_pair')
GROUP BY hour, tenant, industry, use_case, channel, purpose, status, read_signal,
    latency_bucket_s;

DROP VIEW IF EXISTS mv_rollup_journeys_hourly;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_journeys_hourly TO rollup_journeys_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case,
    sum(journeys) AS journeys, sum(journey_channels) AS channels
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'journey')
GROUP BY hour, tenant, industry, use_case;

DROP VIEW IF EXISTS mv_rollup_chatbot_hourly;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_chatbot_hourly TO rollup_chatbot_hourly AS
SELECT
    toStartOfHour(occurred_at) AS hour, tenant, industry, use_case, channel,
    count() AS sessions, countIf(handed_off) AS handed_off
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction' AND kind = 'chatbot_session')
GROUP BY hour, tenant, industry, use_case, channel;

DROP VIEW IF EXISTS mv_dead_letters;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_dead_letters TO dead_letters AS
SELECT
    kafka_timestamp AS received_at, kafka_topic, kafka_partition, kafka_offset, code, reason,
    original
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'dead_letter');

DROP VIEW IF EXISTS mv_ingest_progress;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_ingest_progress TO ingest_progress AS
SELECT kafka_topic, kafka_partition, kafka_offset, watermark, kafka_timestamp AS flushed_at
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'progress');

DROP VIEW IF EXISTS mv_pipeline_health;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_pipeline_health TO pipeline_health AS
SELECT
    kafka_timestamp AS flushed_at, worker, kafka_topic, kafka_partition, kafka_offset,
    watermark, events, dead, duplicates, late_events, lag
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'progress');

DROP VIEW IF EXISTS mv_rollup_interactions_daily;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_interactions_daily
TO rollup_interactions_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case, channel, kind,
    count() AS interactions, sum(late) AS late
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction')
GROUP BY day, tenant, industry, use_case, channel, kind;

DROP VIEW IF EXISTS mv_rollup_calls_daily;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_calls_daily TO rollup_calls_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case, kind, outcome, purpose,
    bucket_s AS duration_bucket_s, count() AS calls, sum(duration_ms) AS duration_ms,
    sum(late) AS late
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction' AND kind IN ('ivr_call', 'notification_call'))
GROUP BY day, tenant, industry, use_case, kind, outcome, purpose, duration_bucket_s;

DROP VIEW IF EXISTS mv_rollup_messaging_daily;

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
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND ((fact = 'interaction' AND kind IN ('message_sent', 'message_receipt'))
    OR fact = 'read_pair')
GROUP BY day, tenant, industry, use_case, channel, purpose, status, read_signal,
    latency_bucket_s;

DROP VIEW IF EXISTS mv_rollup_journeys_daily;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_journeys_daily TO rollup_journeys_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case,
    sum(journeys) AS journeys, sum(journey_channels) AS channels
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'journey')
GROUP BY day, tenant, industry, use_case;

DROP VIEW IF EXISTS mv_rollup_chatbot_daily;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_chatbot_daily TO rollup_chatbot_daily AS
SELECT
    toDate(occurred_at) AS day, tenant, industry, use_case, channel,
    count() AS sessions, countIf(handed_off) AS handed_off
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'interaction' AND kind = 'chatbot_session')
GROUP BY day, tenant, industry, use_case, channel;
