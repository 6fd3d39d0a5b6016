-- description: Read pairs per year, industry and channel, and those read within 3 minutes of the send: the cells the Report page measures the published read speed on. Filters: '' = all.
-- kinds: message_sent, message_receipt
SELECT
    toYear(day) AS year,
    industry,
    channel,
    sum(read_pairs) AS read_pairs,
    sum(read_within_3_min) AS read_within_3_min
FROM rollup_messaging_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry, channel
ORDER BY year, industry, channel
