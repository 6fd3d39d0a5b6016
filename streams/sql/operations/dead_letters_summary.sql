-- description: The dead letters received in a period, by reason code (one code, or '' for every code): how many, how many a replay has repaired, the first and last received, and an example reason (journey dead-letters list).
SELECT
    d.code AS code,
    count() AS dead_letters,
    countIf(r.kafka_offset IS NOT NULL) AS replayed,
    min(d.received_at) AS first_received,
    max(d.received_at) AS last_received,
    any(d.reason) AS example
FROM dead_letters AS d
LEFT JOIN (
    SELECT DISTINCT kafka_topic, kafka_partition, kafka_offset FROM dead_letter_replays
) AS r
    ON d.kafka_topic = r.kafka_topic
    AND d.kafka_partition = r.kafka_partition
    AND d.kafka_offset = r.kafka_offset
WHERE d.received_at >= {since:DateTime64(3)} AND d.received_at < {until:DateTime64(3)}
  AND ({code:String} = '' OR d.code = {code:String})
GROUP BY code
ORDER BY dead_letters DESC, code
SETTINGS join_use_nulls = 1
