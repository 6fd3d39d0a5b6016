-- description: Channel mix per year and industry: interactions per channel and their share of that industry's interactions in the year (receipts excluded). Filters: '' = all.
-- kinds: all but message_receipt
SELECT
    year,
    industry,
    channel,
    interactions,
    round(interactions / sum(interactions) OVER (PARTITION BY year, industry), 6) AS share
FROM
(
    SELECT toYear(day) AS year, industry, channel, sum(interactions) AS interactions
    FROM rollup_interactions_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind != 'message_receipt'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY year, industry, channel
)
ORDER BY year, industry, interactions DESC, channel
