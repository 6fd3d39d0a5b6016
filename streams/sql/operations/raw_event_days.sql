-- description: The first and last event time the raw interactions table holds, and how many events (journey rebuild: without --from/--to it rebuilds every day between them).
SELECT min(occurred_at) AS first_event, max(occurred_at) AS last_event, count() AS events
FROM interactions
