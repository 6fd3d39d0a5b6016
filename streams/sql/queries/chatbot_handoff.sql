-- description: Chatbot sessions per year and the share handed off to a human. Filters: '' = all.
-- kinds: chatbot_session
SELECT
    toYear(day) AS year,
    sum(sessions) AS chatbot_sessions,
    sum(handed_off) AS handed_off_sessions,
    round(handed_off_sessions / nullIf(chatbot_sessions, 0), 6) AS hand_off_rate
FROM rollup_chatbot_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
GROUP BY year
ORDER BY year
