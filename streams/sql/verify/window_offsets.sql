-- description: Per partition, the offsets of the raw table's events within an event-time window (journey verify --from/--to): the span of records whose events fall in it.
SELECT kafka_partition, min(kafka_offset) AS first, max(kafka_offset) AS last, count() AS events
FROM interactions
WHERE occurred_at >= {start:DateTime64(3)} AND occurred_at < {end:DateTime64(3)}
GROUP BY kafka_partition
ORDER BY kafka_partition
