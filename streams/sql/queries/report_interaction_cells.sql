-- description: Interactions per year, industry, use case, channel and kind (receipts included, as kind message_receipt): the cells the Report page measures published shares and growth on. Filters: '' = all.
-- kinds: all
SELECT toYear(day) AS year, industry, use_case, channel, kind, sum(interactions) AS interactions
FROM rollup_interactions_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry, use_case, channel, kind
ORDER BY year, industry, use_case, channel, kind
