-- description: How the channel mix shifted: per channel, interactions and share in the period and in the comparison period, and the shift in share (period minus comparison, in share points). Filters: '' = all.
-- kinds: all but message_receipt
SELECT
    channel,
    period_interactions,
    comparison_interactions,
    round(period_interactions / nullIf(sum(period_interactions) OVER (), 0), 6) AS period_share,
    round(comparison_interactions / nullIf(sum(comparison_interactions) OVER (), 0), 6)
        AS comparison_share,
    round(period_share - comparison_share, 6) AS share_shift
FROM
(
    -- One pass over both periods; sumIf splits them.
    SELECT
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
    GROUP BY channel
)
ORDER BY share_shift DESC, channel
