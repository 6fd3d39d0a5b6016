-- Journeys (counted in the period and cell of their first-seen event) and the channels each
-- used (journey_channels: one per channel new to its journey).
-- grains: hour, day
-- verify: sums
SELECT {period}, tenant, industry, use_case, sum(journeys) AS journeys,
    sum(journey_channels) AS channels
FROM fenced_facts
WHERE fact = 'journey'
GROUP BY ALL
