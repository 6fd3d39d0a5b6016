-- description: Use-case shares per year: interactions per use case and their share of the year's interactions (receipts excluded), for the filters given ('' = all).
-- kinds: all but message_receipt
SELECT year, use_case, interactions, round(interactions / sum(interactions) OVER (PARTITION BY year), 6) AS share
FROM
(
    SELECT toYear(day) AS year, use_case, sum(interactions) AS interactions
    FROM rollup_interactions_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind != 'message_receipt'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year, use_case
)
ORDER BY year, interactions DESC, use_case
