-- description: Mark every unacknowledged loss of records (ingest_losses) as seen by an operator: `journey status` and the dashboard stop warning about them; the rows stay.
-- (No alias on the new times: an alias named like a column would shadow it in WHERE.)
INSERT INTO ingest_losses
(
    kafka_topic, kafka_partition, first_offset, last_offset, lost, after_watermark, detected_at,
    worker, acknowledged_at, updated_at
)
SELECT
    kafka_topic, kafka_partition, first_offset, last_offset, lost, after_watermark, detected_at,
    worker, now64(3), now64(3)
FROM ingest_losses FINAL
WHERE acknowledged_at = toDateTime64(0, 3, 'UTC')
