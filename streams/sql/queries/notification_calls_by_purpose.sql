-- description: Outbound notification calls per year and purpose: calls and mean duration (s). Filters: '' = all.
-- kinds: notification_call
SELECT
    toYear(day) AS year,
    purpose,
    sum(calls) AS notification_calls,
    round(sum(duration_ms) / 1000 / notification_calls, 3) AS mean_s
FROM rollup_calls_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND kind = 'notification_call'
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
GROUP BY year, purpose
ORDER BY year, purpose
