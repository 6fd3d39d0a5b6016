-- description: Per partition of a topic: the last offset whose effects ClickHouse holds, the event-time watermark after it, and when it was flushed.
SELECT
    kafka_partition,
    max(kafka_offset) AS last_offset,
    argMax(watermark, kafka_offset) AS watermark,
    max(flushed_at) AS flushed_at
FROM ingest_progress
WHERE kafka_topic = {topic:String}
GROUP BY kafka_partition
ORDER BY kafka_partition
