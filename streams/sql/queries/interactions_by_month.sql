-- description: Interactions per month and channel (receipts excluded), for the filters given ('' = all): the Overview's monthly volume by channel.
-- kinds: all but message_receipt
SELECT toStartOfMonth(day) AS month, channel, sum(interactions) AS interactions
FROM rollup_interactions_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND kind != 'message_receipt'
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
GROUP BY month, channel
ORDER BY month, channel
