-- description: The Overview cards month by month, for their trend lines: interactions (receipts excluded), share of the month's four biggest channels, smart-notification share, IVR mean duration (s), share of read pairs read within 3 minutes of the send, channels per journey. Filters: '' = all (channel does not apply to journeys).
-- kinds: all
SELECT
    touches.month AS month,
    touches.interactions AS interactions,
    touches.top4_channel_share AS top4_channel_share,
    touches.smart_notification_share AS smart_notification_share,
    calls.ivr_mean_s AS ivr_mean_s,
    reads.read_within_3_min_share AS read_within_3_min_share,
    journeys.channels_per_journey AS channels_per_journey
FROM
(
    SELECT
        month,
        sum(n) AS interactions,
        round(arraySum(arraySlice(arrayReverseSort(groupArray(n)), 1, 4)) / nullIf(interactions, 0), 6)
            AS top4_channel_share,
        round(sum(smart) / nullIf(interactions, 0), 6) AS smart_notification_share
    FROM
    (
        SELECT
            toStartOfMonth(day) AS month, channel, sum(interactions) AS n,
            sumIf(interactions, use_case = 'smart_notification') AS smart
        FROM rollup_interactions_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind != 'message_receipt'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
        GROUP BY month, channel
    )
    GROUP BY month
) AS touches
LEFT JOIN
(
    SELECT toStartOfMonth(day) AS month, round(sum(duration_ms) / 1000 / nullIf(sum(calls), 0), 3) AS ivr_mean_s
    FROM rollup_calls_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind = 'ivr_call'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY month
) AS calls ON calls.month = touches.month
LEFT JOIN
(
    SELECT
        toStartOfMonth(day) AS month,
        round(sum(read_within_3_min) / nullIf(sum(read_pairs), 0), 6) AS read_within_3_min_share
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY month
) AS reads ON reads.month = touches.month
LEFT JOIN
(
    SELECT
        toStartOfMonth(day) AS month,
        round(sum(channels) / nullIf(sum(journeys), 0), 4) AS channels_per_journey
    FROM rollup_journeys_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY month
) AS journeys ON journeys.month = touches.month
ORDER BY month
SETTINGS join_use_nulls = 1
