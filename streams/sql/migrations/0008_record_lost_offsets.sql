-- Records the source topic deleted before any worker applied them. A worker stopped for longer
-- than the topic's retention (or a delete-records) resumes at the log start, past records it
-- never fetched: the gap guard cannot see them, so the worker writes one row per partition
-- and gap here when it takes the partition (streams/agents/interactions.py). `journey status`
-- exits non-zero, /metrics shows journey_lost_offsets, and the dashboard warns, until an
-- operator acknowledges the loss (`journey losses --acknowledge`).
--
-- The same gap found twice (the worker stopped again before its first insert) is one row: the
-- newest version of a (topic, partition, first offset) wins.
CREATE TABLE IF NOT EXISTS ingest_losses
(
    kafka_topic LowCardinality(String),
    kafka_partition UInt16,
    first_offset UInt64,
    last_offset UInt64,
    lost UInt64,
    -- The partition's event-time watermark when it stopped: the lost records were published
    -- after the ones applied, so their events are mostly at or after it.
    after_watermark DateTime64(3, 'UTC'),
    detected_at DateTime64(3, 'UTC'),
    worker String,
    acknowledged_at DateTime64(3, 'UTC') DEFAULT toDateTime64(0, 3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
-- One gap of one partition is one row: found again, or acknowledged, its newest version wins.
ORDER BY (kafka_topic, kafka_partition, first_offset)
SETTINGS non_replicated_deduplication_window = 1000;
