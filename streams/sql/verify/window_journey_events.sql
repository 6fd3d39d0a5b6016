-- description: Every event, at any time, of the journeys that have an event in an event-time window, one share of them (journeys split into shares by hash): journey verify --from/--to recomputes the rollups from the raw table a share at a time, since a journey counts in the hour of its earliest event and a read pair in its send's.
SELECT
    event_id, kind, toUnixTimestamp64Milli(occurred_at) AS at, tenant, industry, use_case,
    channel, journey_id, customer_id, direction, duration_s, outcome, purpose, message_id,
    status, read_signal, handed_off, conversation_id, contact_reason, agent_requested,
    exit_reason, reply_enabled, error_code, handoff_requested, resolved, in_reply_to,
    kafka_partition, kafka_offset, late
FROM interactions
WHERE cityHash64(journey_id) % {parts:UInt64} = {part:UInt64}
  AND journey_id IN (
      SELECT journey_id
      FROM interactions
      WHERE occurred_at >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
        AND occurred_at < fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
        AND cityHash64(journey_id) % {parts:UInt64} = {part:UInt64}
  )
