-- description: Interactions per calendar year the rollups hold (receipts excluded), with the first and last hour of each year that has data, and when the worker last flushed.
SELECT
    toYear(hour) AS year,
    sum(interactions) AS interactions,
    min(hour) AS first_hour,
    max(hour) AS last_hour,
    (SELECT max(flushed_at) FROM ingest_progress) AS last_flush_at
FROM rollup_interactions_hourly
WHERE kind != 'message_receipt'
GROUP BY year
ORDER BY year
