-- description: Each use case's channel mix in a period: interactions per use case and channel, and their share of the use case's interactions (receipts excluded). Filters: '' = all.
-- kinds: all but message_receipt
SELECT
    use_case,
    channel,
    interactions,
    round(interactions / sum(interactions) OVER (PARTITION BY use_case), 6) AS share
FROM
(
    SELECT use_case, channel, sum(interactions) AS interactions
    FROM rollup_interactions_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind != 'message_receipt'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY use_case, channel
)
ORDER BY use_case, interactions DESC, channel
