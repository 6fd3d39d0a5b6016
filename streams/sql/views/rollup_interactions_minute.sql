-- The same per minute, for the Live page: only events of the last two days are written here.
-- verify: no, what it holds depends on the time of the insert (now())
SELECT
    toStartOfMinute(occurred_at) AS minute, tenant, industry, use_case, channel, kind,
    count() AS interactions, sum(late) AS late
FROM fenced_facts
WHERE fact = 'interaction' AND occurred_at >= now() - INTERVAL 2 DAY
GROUP BY ALL
