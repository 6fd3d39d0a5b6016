-- description: The Overview cards for one period: interactions (receipts excluded), share of the four biggest channels, smart-notification share, IVR mean duration (s), share of read pairs read within 3 minutes of the send, channels per journey. Filters: '' = all (channel does not apply to journeys).
WITH by_channel AS
(
    SELECT channel, sum(interactions) AS n
    FROM rollup_interactions_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind != 'message_receipt'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY channel
)
SELECT
    (SELECT sum(n) FROM by_channel) AS interactions,
    round((SELECT sum(n) FROM (SELECT n FROM by_channel ORDER BY n DESC LIMIT 4))
        / nullIf(interactions, 0), 6) AS top4_channel_share,
    round((
        SELECT sum(interactions)
        FROM rollup_interactions_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind != 'message_receipt' AND use_case = 'smart_notification'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
    ) / nullIf(interactions, 0), 6) AS smart_notification_share,
    (
        SELECT round(sum(duration_ms) / 1000 / nullIf(sum(calls), 0), 3)
        FROM rollup_calls_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind = 'ivr_call'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
    ) AS ivr_mean_s,
    (
        SELECT round(sum(read_within_3_min) / nullIf(sum(read_pairs), 0), 6)
        FROM rollup_messaging_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
    ) AS read_within_3_min_share,
    (
        SELECT round(sum(channels) / nullIf(sum(journeys), 0), 4)
        FROM rollup_journeys_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
    ) AS channels_per_journey
