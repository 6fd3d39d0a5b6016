-- Journeys (counted in the period and cell of their earliest event) and the channels each
-- used (journey_channels: one per channel new to its journey). A journey whose earliest event
-- arrived late is retracted from the cell it was counted in (sign -1) and counted again.
-- grains: hour, day
-- verify: sums
SELECT {period}, tenant, industry, use_case, sum(sign * journeys) AS journeys,
    sum(sign * journey_channels) AS channels
FROM fenced_facts
WHERE fact = 'journey'
GROUP BY ALL
