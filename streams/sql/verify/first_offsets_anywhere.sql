-- description: Where the raw table holds each of some events of one partition, at any event time (journey verify --offsets: a record repeating an event id with another event time or tenant, rare, so the partition's rows are read whole). The events come as the external table verify_keys (journey_id, event_id are read).
SELECT journey_id, event_id, min(kafka_offset) AS first_offset
FROM interactions
WHERE kafka_partition = {partition:UInt16}
  AND (journey_id, event_id) IN (SELECT journey_id, event_id FROM verify_keys)
GROUP BY journey_id, event_id
