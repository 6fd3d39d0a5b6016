-- description: The first and last hour the interaction rollup holds (for default periods).
SELECT min(hour) AS first_hour, max(hour) AS last_hour, sum(interactions) AS interactions
FROM rollup_interactions_hourly
