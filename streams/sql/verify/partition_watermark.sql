-- description: A partition's event-time watermark before an offset (journey verify --offsets): the newest event time of the raw rows before it, in ms (0 when there are none), which the worker's lateness flags of the range's first events are decided against. Read through the projection by offset (migration 0017).
SELECT toUnixTimestamp64Milli(max(occurred_at)) AS watermark_ms
FROM interactions
WHERE kafka_partition = {partition:UInt16} AND kafka_offset < {first:UInt64}
