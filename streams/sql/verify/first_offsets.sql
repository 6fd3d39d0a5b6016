-- description: Where the raw table holds each of some events of one partition (journey verify --offsets: a record found to repeat an event must find that event at an earlier offset). The events come as the external table verify_keys (tenant, hour, journey_id, event_id): the table's key prefix, so only those hours are read.
SELECT journey_id, event_id, min(kafka_offset) AS first_offset
FROM interactions
WHERE kafka_partition = {partition:UInt16}
  AND (tenant, toStartOfHour(occurred_at), journey_id, event_id)
      IN (SELECT tenant, hour, journey_id, event_id FROM verify_keys)
GROUP BY journey_id, event_id
