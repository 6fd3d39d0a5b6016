-- IVR and notification calls per period, cell, outcome, purpose and duration bucket; of the
-- IVR calls, those where the caller asked for a person (contract 1.1) and the trapped ones
-- (asked, and not transferred to an agent).
-- grains: hour, day
-- verify: sums
SELECT
    {period}, tenant, industry, use_case, kind, outcome, purpose,
    bucket_s AS duration_bucket_s, count() AS calls, sum(duration_ms) AS duration_ms,
    sum(late) AS late, countIf(agent_requested) AS agent_requested_calls,
    countIf(agent_requested AND outcome != 'transferred_to_agent') AS trapped_calls
FROM fenced_facts
WHERE fact = 'interaction' AND kind IN ('ivr_call', 'notification_call')
GROUP BY ALL
