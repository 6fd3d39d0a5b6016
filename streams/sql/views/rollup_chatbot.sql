-- Chatbot sessions and those handed off to a person, per period and cell; with contract 1.1's
-- fields: hand-offs asked for, sessions the bot resolved, contained sessions (resolved without
-- a hand-off) and denied hand-offs (asked for, not given).
-- grains: hour, day
-- verify: sums
SELECT {period}, tenant, industry, use_case, channel, count() AS sessions,
    countIf(handed_off) AS handed_off, countIf(handoff_requested) AS handoff_requests,
    countIf(resolved) AS resolved_sessions,
    -- facts.handed_off: the column (handed_off alone is the count above)
    countIf(resolved AND NOT facts.handed_off) AS contained_sessions,
    countIf(handoff_requested AND NOT facts.handed_off) AS denied_handoffs
FROM fenced_facts AS facts
WHERE fact = 'interaction' AND kind = 'chatbot_session'
GROUP BY ALL
