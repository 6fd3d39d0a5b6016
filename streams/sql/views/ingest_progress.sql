-- Where each partition stands after each flush: the worker resumes after the highest offset.
-- verify: no, it records the worker's flushes, not the events
SELECT kafka_topic, kafka_partition, kafka_offset, watermark, kafka_timestamp AS flushed_at
FROM fenced_facts
WHERE fact = 'progress'
