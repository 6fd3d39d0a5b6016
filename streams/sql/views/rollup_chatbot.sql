-- Chatbot sessions and those handed off to a person, per period and cell.
-- grains: hour, day
-- verify: sums
SELECT {period}, tenant, industry, use_case, channel, count() AS sessions,
    countIf(handed_off) AS handed_off
FROM fenced_facts
WHERE fact = 'interaction' AND kind = 'chatbot_session'
GROUP BY ALL
