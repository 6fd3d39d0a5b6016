-- description: IVR escape per year: calls, the share where the caller asked for a person, and trapped callers (asked, not transferred to an agent) as a share of calls and of those who asked. Contract 1.1 fields: calls published without them count as not asking. Filters: '' = all.
-- kinds: ivr_call
SELECT
    toYear(day) AS year,
    sum(calls) AS ivr_calls,
    sum(agent_requested_calls) AS agent_requested,
    round(agent_requested / nullIf(ivr_calls, 0), 6) AS agent_requested_share,
    sum(trapped_calls) AS trapped,
    round(trapped / nullIf(ivr_calls, 0), 6) AS trapped_share,
    round(trapped / nullIf(agent_requested, 0), 6) AS trapped_of_requests
FROM rollup_calls_daily
WHERE kind = 'ivr_call'
  AND day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
GROUP BY year
ORDER BY year
