-- description: The events of the customers that have an event in an event-time window, one share of them (customers split into shares by hash), from the leakage or repeat window before it to the same after it (journey verify --from/--to: a customer's count at a time depends on that customer's events within those windows of it).
SELECT
    event_id, kind, toUnixTimestamp64Milli(occurred_at) AS at, tenant, industry, use_case,
    channel, journey_id, customer_id, direction, duration_s, outcome, purpose, message_id,
    status, read_signal, handed_off, conversation_id, contact_reason, agent_requested,
    exit_reason, reply_enabled, error_code, handoff_requested, resolved, in_reply_to,
    kafka_partition, kafka_offset, late
FROM interactions
WHERE occurred_at >= fromUnixTimestamp64Milli({start_ms:Int64} - {reach_ms:Int64}, 'UTC')
  AND occurred_at <= fromUnixTimestamp64Milli({end_ms:Int64} + {reach_ms:Int64}, 'UTC')
  AND cityHash64(customer_id) % {parts:UInt64} = {part:UInt64}
  AND customer_id IN (
      SELECT customer_id
      FROM interactions
      WHERE occurred_at >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
        AND occurred_at < fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
        AND cityHash64(customer_id) % {parts:UInt64} = {part:UInt64}
  )
