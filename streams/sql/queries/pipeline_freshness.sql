-- description: Freshness per partition of a topic: last flush and event-time watermark (from the progress table), consumer lag at the last flush, and events/dead letters/late events in the last 5 minutes of flushes. A partition that has not flushed within 10 minutes of the newest flush shows no lag: it is the one to look at.
SELECT
    p.kafka_partition AS kafka_partition,
    p.last_flush_at AS last_flush_at,
    p.watermark AS watermark,
    h.lag AS lag,
    h.events_5m AS events_5m,
    h.dead_letters_5m AS dead_letters_5m,
    h.late_5m AS late_5m
FROM
(
    -- ingest_progress holds one row per partition (once merged): cheap to read in full.
    SELECT
        kafka_partition,
        max(flushed_at) AS last_flush_at,
        argMax(watermark, kafka_offset) AS watermark
    FROM ingest_progress
    WHERE kafka_topic = {topic:String}
    GROUP BY kafka_partition
) AS p
LEFT JOIN
(
    -- pipeline_health holds a row per batch and partition for a week: read only the minutes
    -- around the newest flush.
    SELECT
        kafka_partition,
        argMax(lag, flushed_at) AS lag,
        sumIf(events, flushed_at >= now64(3) - INTERVAL 5 MINUTE) AS events_5m,
        sumIf(dead, flushed_at >= now64(3) - INTERVAL 5 MINUTE) AS dead_letters_5m,
        sumIf(late_events, flushed_at >= now64(3) - INTERVAL 5 MINUTE) AS late_5m
    FROM pipeline_health
    WHERE kafka_topic = {topic:String}
      AND flushed_at >= (
          SELECT max(flushed_at) - INTERVAL 10 MINUTE
          FROM ingest_progress
          WHERE kafka_topic = {topic:String}
      )
    GROUP BY kafka_partition
) AS h ON h.kafka_partition = p.kafka_partition
ORDER BY kafka_partition
SETTINGS join_use_nulls = 1
