-- description: The latest events ingested (receipts included), newest first, for a quick look at the stream.
SELECT event_id, kind, occurred_at, tenant, industry, use_case, channel, direction, ingested_at
FROM interactions
ORDER BY ingested_at DESC, occurred_at DESC
LIMIT {limit:UInt32}
