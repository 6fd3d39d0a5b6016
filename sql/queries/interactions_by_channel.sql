-- description: Interactions per channel in a period (receipts are signals, not interactions), with the latest event time seen.
SELECT
    channel,
    count() AS interactions,
    max(occurred_at) AS last_event_at
FROM interactions
WHERE occurred_at >= {start:DateTime64(3)}
  AND occurred_at < {end:DateTime64(3)}
  AND kind != 'message_receipt'
GROUP BY channel
ORDER BY interactions DESC, channel
