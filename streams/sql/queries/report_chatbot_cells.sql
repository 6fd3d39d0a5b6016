-- description: Chatbot sessions per year and industry: handed off, hand-offs the customer asked for, contained (resolved without a hand-off) and refused hand-offs (asked, not handed off; contract 1.1): the cells the Report page measures bot containment on. Filters: '' = all.
-- kinds: chatbot_session
SELECT
    toYear(day) AS year,
    industry,
    sum(sessions) AS sessions,
    sum(handed_off) AS handed_off,
    sum(handoff_requests) AS handoff_requests,
    sum(contained_sessions) AS contained_sessions,
    sum(denied_handoffs) AS denied_handoffs
FROM rollup_chatbot_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry
ORDER BY year, industry
