-- description: Records the source topic deleted (retention or delete-records) before any worker applied them, one row per partition and gap: the offsets, how many, the event-time watermark the partition had reached, when a worker found the gap, and whether an operator acknowledged it.
SELECT
    kafka_topic,
    kafka_partition,
    first_offset,
    last_offset,
    lost,
    after_watermark,
    detected_at,
    worker,
    acknowledged_at > toDateTime64(0, 3, 'UTC') AS acknowledged
FROM ingest_losses FINAL
ORDER BY kafka_topic, kafka_partition, first_offset
