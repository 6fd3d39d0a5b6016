-- description: The Overview cards for one period: interactions (receipts excluded), share of the four biggest channels, smart-notification share, IVR mean duration (s), share of read pairs read within 3 minutes of the send, channels per journey. Filters: '' = all (channel does not apply to journeys).
-- kinds: all
-- Each rollup read once, in one pass: the four single-row answers are stacked (UNION ALL) and
-- summed into one row, each column taking its number from its own rollup.
SELECT
    sum(touches) AS interactions,
    round(sum(top4) / nullIf(interactions, 0), 6) AS top4_channel_share,
    round(sum(smart) / nullIf(interactions, 0), 6) AS smart_notification_share,
    round(sum(call_ms) / 1000 / nullIf(sum(calls), 0), 3) AS ivr_mean_s,
    round(sum(within) / nullIf(sum(pairs), 0), 6) AS read_within_3_min_share,
    round(sum(channels) / nullIf(sum(journeys), 0), 4) AS channels_per_journey
FROM
(
    SELECT
        sum(n) AS touches, arraySum(arraySlice(arrayReverseSort(groupArray(n)), 1, 4)) AS top4,
        sum(s) AS smart, 0 AS call_ms, 0 AS calls, 0 AS within, 0 AS pairs, 0 AS channels,
        0 AS journeys
    FROM
    (
        SELECT
            channel, sum(interactions) AS n,
            sumIf(interactions, use_case = 'smart_notification') AS s
        FROM rollup_interactions_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind != 'message_receipt'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
        GROUP BY channel
    )
    UNION ALL
    SELECT 0, 0, 0, sum(duration_ms), sum(calls), 0, 0, 0, 0
    FROM rollup_calls_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind = 'ivr_call'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    UNION ALL
    SELECT 0, 0, 0, 0, 0, sum(read_within_3_min), sum(read_pairs), 0, 0
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    UNION ALL
    SELECT 0, 0, 0, 0, 0, 0, 0, sum(channels), sum(journeys)
    FROM rollup_journeys_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
)
