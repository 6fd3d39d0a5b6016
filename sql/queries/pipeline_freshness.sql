-- description: Freshness per partition of a topic: last flush, event-time watermark, consumer lag at that flush, and events/dead letters/late events in the last 5 minutes of flushes.
SELECT
    kafka_partition,
    max(flushed_at) AS last_flush_at,
    argMax(watermark, flushed_at) AS watermark,
    argMax(lag, flushed_at) AS lag,
    sumIf(events, flushed_at >= now64(3) - INTERVAL 5 MINUTE) AS events_5m,
    sumIf(dead, flushed_at >= now64(3) - INTERVAL 5 MINUTE) AS dead_letters_5m,
    sumIf(late_events, flushed_at >= now64(3) - INTERVAL 5 MINUTE) AS late_5m
FROM pipeline_health
WHERE kafka_topic = {topic:String}
GROUP BY kafka_partition
ORDER BY kafka_partition
