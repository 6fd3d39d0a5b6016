-- description: What the raw table holds of an event-time window (journey verify --from/--to, the rollups step): its events, journeys and customers, and how many of its events were stored before migration 0017 recorded whether they arrived late.
SELECT
    count() AS events,
    uniqExact(journey_id) AS journeys,
    uniqExact(customer_id) AS customers,
    countIf(late < 0) AS lateness_unknown
FROM interactions
WHERE occurred_at >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC')
  AND occurred_at < fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')
