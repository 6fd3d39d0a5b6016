-- description: Which of some dead letters a replay has already repaired, and when first (journey dead-letters replay skips them). The dead letters come as the external table replay_keys (kafka_topic, kafka_partition, kafka_offset).
SELECT kafka_topic, kafka_partition, kafka_offset, min(replayed_at) AS first_replayed
FROM dead_letter_replays
WHERE (kafka_topic, kafka_partition, kafka_offset)
      IN (SELECT kafka_topic, kafka_partition, kafka_offset FROM replay_keys)
GROUP BY kafka_topic, kafka_partition, kafka_offset
