-- Dead-letter repair (issue 18, `journey dead-letters replay`): which dead letter each replayed
-- record repairs. An engineer exports rejected records, fixes them and replays the fixed file
-- through the publisher; the replay writes a row here per dead letter it published, naming the
-- original (topic, partition, offset) and where its fixed record went. A dead letter that has
-- a row is never replayed again, however often the file is: each original counts once. (Should
-- a replay stop after publishing and before writing here, the next replay publishes the same
-- fixed events again and the worker counts each event id once, as for any repeated record.)
CREATE TABLE IF NOT EXISTS dead_letter_replays
(
    kafka_topic LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset UInt64,
    code LowCardinality(String),
    replay_topic LowCardinality(String),
    replay_partition UInt16,
    replay_offset UInt64,
    journey_id String,
    event_id String,
    replayed_by String,
    replayed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
-- Looked up by the original dead letter's position, a file's worth at a time.
ORDER BY (kafka_topic, kafka_partition, kafka_offset)
SETTINGS non_replicated_deduplication_window = 10000;
