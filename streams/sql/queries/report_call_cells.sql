-- description: Calls per year, industry and kind with their total duration (ms): the cells the Report page measures published mean call durations on. Filters: '' = all.
SELECT toYear(day) AS year, industry, kind, sum(calls) AS calls, sum(duration_ms) AS duration_ms
FROM rollup_calls_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry, kind
ORDER BY year, industry, kind
