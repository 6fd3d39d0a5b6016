-- IVR and notification calls per period, cell, outcome, purpose and duration bucket.
-- grains: hour, day
-- verify: sums
SELECT
    {period}, tenant, industry, use_case, kind, outcome, purpose,
    bucket_s AS duration_bucket_s, count() AS calls, sum(duration_ms) AS duration_ms,
    sum(late) AS late
FROM fenced_facts
WHERE fact = 'interaction' AND kind IN ('ivr_call', 'notification_call')
GROUP BY ALL
