-- One row per partition per flush: freshness, lag and the flush's counters.
-- verify: no, it records the worker's flushes, not the events
SELECT
    kafka_timestamp AS flushed_at, worker, kafka_topic, kafka_partition, kafka_offset,
    watermark, events, dead, duplicates, late_events, lag
FROM fenced_facts
WHERE fact = 'progress'
