-- Interactions and late ones per period and cell: channel mix, use-case shares, growth.
-- grains: hour, day
-- verify: sums
SELECT {period}, tenant, industry, use_case, channel, kind, count() AS interactions,
    sum(late) AS late
FROM fenced_facts
WHERE fact = 'interaction'
GROUP BY ALL
