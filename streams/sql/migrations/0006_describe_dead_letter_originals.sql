-- A rejected record is kept cut to its first 64 KiB (streams/logic/ingest.py MAX_KEPT_BYTES)
-- and redacted, so a dead letter always fits the dead-letter topic however large the record
-- was; its original size and SHA-256 say what came, and let an engineer match it with what the
-- producer sent.
--
-- Run with the workers stopped (as every migration): the view is dropped and re-created.

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS original_size UInt32 DEFAULT 0 AFTER original;

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS original_sha256 String DEFAULT '' AFTER original_size;

ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS original_size UInt32 DEFAULT 0 AFTER original;

ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS original_sha256 String DEFAULT '' AFTER original_size;

DROP VIEW IF EXISTS mv_dead_letters;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_dead_letters TO dead_letters AS
SELECT
    kafka_timestamp AS received_at, kafka_topic, kafka_partition, kafka_offset, code, reason,
    original, original_size, original_sha256
FROM ingest_facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
  AND (fact = 'dead_letter');
