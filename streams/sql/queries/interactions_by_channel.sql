-- description: Interactions per channel in a period (receipts are signals, not interactions), from the daily rollup, with the last day holding any. Period bounds are whole days (UTC).
-- kinds: all but message_receipt
SELECT
    channel,
    sum(interactions) AS interactions,
    max(day) AS last_day
FROM rollup_interactions_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND kind != 'message_receipt'
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY channel
HAVING interactions > 0
ORDER BY interactions DESC, channel
