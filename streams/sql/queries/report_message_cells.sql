-- description: Sends per year, industry and channel: those the customer could answer and could not (contract 1.1 reply_enabled), and the delivered, failed and undelivered receipts: the cells the Report page measures two-way messaging and delivery on. Filters: '' = all.
-- kinds: message_sent, message_receipt
-- Summed by status first, then split: the inner sums are the table's projection's own (see
-- migration 0013), so the question reads the rollup summed without its latency buckets.
SELECT
    year,
    industry,
    channel,
    sum(sends) AS sends,
    sum(enabled) AS reply_enabled_sends,
    sends - reply_enabled_sends AS not_reply_enabled_sends,
    sumIf(receipts, status = 'delivered') AS delivered,
    sumIf(receipts, status = 'failed') AS failed,
    sumIf(receipts, status = 'undelivered') AS undelivered
FROM
(
    SELECT toYear(day) AS year, industry, channel, status, sum(sends) AS sends,
        sum(reply_enabled_sends) AS enabled, sum(receipts) AS receipts
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY year, industry, channel, status
)
GROUP BY year, industry, channel
ORDER BY year, industry, channel
