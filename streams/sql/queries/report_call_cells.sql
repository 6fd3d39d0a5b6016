-- description: Calls per year, industry and kind with their total duration (ms), and the IVR calls whose caller asked for a person and the trapped ones (asked, not transferred; contract 1.1): the cells the Report page measures published call figures on. Filters: '' = all.
-- kinds: ivr_call, notification_call
SELECT
    toYear(day) AS year, industry, kind, sum(calls) AS calls, sum(duration_ms) AS duration_ms,
    sum(agent_requested_calls) AS agent_requested_calls, sum(trapped_calls) AS trapped_calls
FROM rollup_calls_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry, kind
ORDER BY year, industry, kind
