-- description: Interactions per calendar year the rollups hold (receipts excluded), with the first and last day of each year that has data, and when the worker last flushed.
-- kinds: all but message_receipt
SELECT
    toYear(day) AS year,
    sum(interactions) AS interactions,
    min(day) AS first_day,
    max(day) AS last_day,
    (SELECT max(flushed_at) FROM ingest_progress) AS last_flush_at
FROM rollup_interactions_daily
WHERE kind != 'message_receipt'
GROUP BY year
ORDER BY year
