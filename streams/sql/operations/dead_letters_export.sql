-- description: The dead letters received in a period, one code or every code (''), oldest first, without those a replay has already repaired unless asked (journey dead-letters export): where each came from, why it was rejected, and the record as kept (redacted, at most 64 KiB).
SELECT
    d.kafka_topic AS kafka_topic, d.kafka_partition AS kafka_partition,
    d.kafka_offset AS kafka_offset, d.code AS code, d.reason AS reason,
    d.received_at AS received_at, d.original AS original, d.original_size AS original_size,
    d.original_sha256 AS original_sha256
FROM dead_letters AS d
WHERE d.received_at >= {since:DateTime64(3)} AND d.received_at < {until:DateTime64(3)}
  AND ({code:String} = '' OR d.code = {code:String})
  AND ({replayed_too:UInt8} = 1 OR (d.kafka_topic, d.kafka_partition, d.kafka_offset) NOT IN (
      SELECT kafka_topic, kafka_partition, kafka_offset FROM dead_letter_replays
  ))
ORDER BY d.received_at, d.kafka_partition, d.kafka_offset
