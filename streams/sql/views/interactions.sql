-- Every valid, first-seen event with its contract fields, where it came from, and whether it
-- arrived late (behind its partition's watermark, as the worker decided; migration 0017).
-- verify: rows by kind
SELECT
    event_id, schema_version, kind, occurred_at, tenant, industry, use_case, channel,
    journey_id, customer_id, direction, duration_s, outcome, purpose, message_id, status,
    read_signal, handed_off, conversation_id, contact_reason, agent_requested, exit_reason,
    reply_enabled, error_code, handoff_requested, resolved, in_reply_to, kafka_partition,
    kafka_offset, late
FROM fenced_facts
WHERE fact = 'interaction'
