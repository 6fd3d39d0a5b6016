-- description: Interactions per minute and channel since a time (the minute rollup keeps the last two days), receipts excluded, with how many arrived late, for a tenant, industry and use case ('' = all).
-- kinds: all but message_receipt
SELECT
    minute,
    channel,
    sum(interactions) AS interactions,
    sum(late) AS late
FROM rollup_interactions_minute
WHERE minute >= {since:DateTime}
  AND kind != 'message_receipt'
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
GROUP BY minute, channel
ORDER BY minute, channel
