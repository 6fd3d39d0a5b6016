-- description: The raw table's rows of one partition between two offsets, inclusive (journey verify --offsets): which event each offset put there. Read through the projection by offset (migration 0016).
SELECT kafka_offset, journey_id, event_id
FROM interactions
WHERE kafka_partition = {partition:UInt16}
  AND kafka_offset >= {first:UInt64} AND kafka_offset <= {last:UInt64}
ORDER BY kafka_offset
