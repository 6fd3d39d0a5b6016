-- description: Channel mix per year: interactions per channel and their share of the year's interactions (receipts excluded), for the filters given ('' = all).
-- kinds: all but message_receipt
SELECT year, channel, interactions, round(interactions / sum(interactions) OVER (PARTITION BY year), 6) AS share
FROM
(
    SELECT toYear(day) AS year, channel, sum(interactions) AS interactions
    FROM rollup_interactions_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind != 'message_receipt'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY year, channel
)
ORDER BY year, interactions DESC, channel
