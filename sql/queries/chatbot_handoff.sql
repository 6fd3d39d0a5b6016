-- description: Chatbot sessions per year and the share handed off to a human. Filters: '' = all.
SELECT
    toYear(hour) AS year,
    sum(sessions) AS chatbot_sessions,
    sum(handed_off) AS handed_off_sessions,
    round(handed_off_sessions / nullIf(chatbot_sessions, 0), 6) AS hand_off_rate
FROM rollup_chatbot_hourly
WHERE hour >= {start:DateTime} AND hour < {end:DateTime}
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
GROUP BY year
ORDER BY year
