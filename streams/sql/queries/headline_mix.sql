-- description: Interactions (receipts excluded) per industry and channel in the period and in the comparison period: the counts the written headlines measure shifts of the channel mix on, overall and within each industry. Filters: '' = all (channel does not apply: the mix compares channels).
-- kinds: all but message_receipt
SELECT
    industry,
    channel,
    sumIf(interactions, day >= toDate({start:DateTime}) AND day < toDate({end:DateTime}))
        AS period_interactions,
    sumIf(
        interactions,
        day >= toDate({compare_start:DateTime}) AND day < toDate({compare_end:DateTime})
    ) AS comparison_interactions
FROM rollup_interactions_daily
WHERE ((day >= toDate({start:DateTime}) AND day < toDate({end:DateTime}))
    OR (day >= toDate({compare_start:DateTime}) AND day < toDate({compare_end:DateTime})))
  AND kind != 'message_receipt'
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
GROUP BY industry, channel
ORDER BY industry, channel
