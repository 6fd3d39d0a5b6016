-- description: IVR outcomes per year: calls per outcome and their share; the self_served share is the containment rate. Filters: '' = all.
-- kinds: ivr_call
SELECT year, outcome, calls, round(calls / sum(calls) OVER (PARTITION BY year), 6) AS share
FROM
(
    SELECT toYear(day) AS year, outcome, sum(calls) AS calls
    FROM rollup_calls_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind = 'ivr_call'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY year, outcome
)
ORDER BY year, outcome
