-- description: The raw table's rows of one partition between two offsets, inclusive (journey verify --offsets): which event each offset put there, and whether the worker found it late (-1: stored before migration 0017 recorded it). Read through the projection by offset (migrations 0016, 0017).
SELECT kafka_offset, journey_id, event_id, late
FROM interactions
WHERE kafka_partition = {partition:UInt16}
  AND kafka_offset >= {first:UInt64} AND kafka_offset <= {last:UInt64}
ORDER BY kafka_offset
