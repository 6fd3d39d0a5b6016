-- description: The newest events (receipts included) that occurred since a time, for the filters given ('' = all), newest first, for a quick look at the stream. The time bound keeps the read to the latest partitions of the raw table.
-- kinds: all
SELECT event_id, kind, occurred_at, tenant, industry, use_case, channel, direction, ingested_at
FROM interactions
WHERE occurred_at >= {since:DateTime64(3)}
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
ORDER BY occurred_at DESC, ingested_at DESC
LIMIT {limit:UInt32}
