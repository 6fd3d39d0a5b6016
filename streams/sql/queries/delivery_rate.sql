-- description: Delivery per year and channel: messages sent, delivery receipts, failed and undelivered messages (contract 1.1 statuses), and the delivery rate (delivery receipts / sends; providers that send no delivery receipt lower it). Filters: '' = all.
-- kinds: message_sent, message_receipt
-- Summed by status first, then split: the inner sums are the table's projection's own (see
-- migration 0013), so the question reads the rollup summed without its latency buckets.
SELECT
    year,
    channel,
    sum(sends) AS sent,
    sumIf(receipts, status = 'delivered') AS delivered,
    sumIf(receipts, status = 'failed') AS failed,
    sumIf(receipts, status = 'undelivered') AS undelivered,
    round(delivered / nullIf(sent, 0), 6) AS delivery_rate
FROM
(
    SELECT toYear(day) AS year, channel, status, sum(sends) AS sends, sum(receipts) AS receipts
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year, channel, status
)
GROUP BY year, channel
ORDER BY year, channel
