-- description: Bot containment per year: chatbot sessions, the share resolved without a hand-off (contained), hand-offs the customer asked for and the share of those not given. Contract 1.1 fields: sessions published without them count as neither resolved nor asking. Filters: '' = all.
-- kinds: chatbot_session
SELECT
    toYear(day) AS year,
    sum(sessions) AS chatbot_sessions,
    sum(contained_sessions) AS contained,
    round(contained / nullIf(chatbot_sessions, 0), 6) AS containment_rate,
    sum(handoff_requests) AS handoff_requested,
    sum(denied_handoffs) AS handoff_denied,
    round(handoff_denied / nullIf(handoff_requested, 0), 6) AS denied_rate
FROM rollup_chatbot_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
GROUP BY year
ORDER BY year
