-- description: The dead letters of one partition of a topic between two offsets, inclusive, received within the records' time span (journey verify --offsets): which reason code each offset was rejected with.
SELECT kafka_offset, code
FROM dead_letters
WHERE kafka_topic = {topic:String}
  AND kafka_partition = {partition:UInt16}
  AND kafka_offset >= {first:UInt64} AND kafka_offset <= {last:UInt64}
  -- the table is partitioned by month of arrival: the records' span prunes the months
  AND received_at >= {since:DateTime64(3)} AND received_at <= {until:DateTime64(3)}
ORDER BY kafka_offset
