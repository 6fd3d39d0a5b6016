-- description: Messaging per year and channel: sends, sends with a read signal (coverage), and the share of those read within 3 minutes of the send. Filters: '' = all.
-- kinds: message_sent, message_receipt
SELECT
    toYear(day) AS year,
    channel,
    sum(sends) AS sends,
    sum(read_pairs) AS read_pairs,
    round(read_pairs / nullIf(sends, 0), 6) AS coverage,
    round(sum(read_within_3_min) / nullIf(read_pairs, 0), 6) AS read_within_3_min_share
FROM rollup_messaging_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
GROUP BY year, channel
ORDER BY year, channel
