-- description: The counts the written headlines rest on, for one period: interactions (receipts excluded) and those of smart notifications, IVR calls and their total duration (ms), read pairs and those read within 3 minutes of the send, journeys and their distinct channels. Run for the period and for the comparison period. Filters: '' = all (channel does not apply to journeys).
SELECT
    (
        SELECT sum(interactions)
        FROM rollup_interactions_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind != 'message_receipt'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
    ) AS interactions,
    (
        SELECT sum(interactions)
        FROM rollup_interactions_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind != 'message_receipt' AND use_case = 'smart_notification'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
    ) AS smart_notification_interactions,
    (
        SELECT sum(calls)
        FROM rollup_calls_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind = 'ivr_call'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
    ) AS ivr_calls,
    (
        SELECT sum(duration_ms)
        FROM rollup_calls_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND kind = 'ivr_call'
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
    ) AS ivr_duration_ms,
    (
        SELECT sum(read_pairs)
        FROM rollup_messaging_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
    ) AS read_pairs,
    (
        SELECT sum(read_within_3_min)
        FROM rollup_messaging_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
    ) AS read_within_3_min,
    (
        SELECT sum(journeys)
        FROM rollup_journeys_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
    ) AS journeys,
    (
        SELECT sum(channels)
        FROM rollup_journeys_daily
        WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
    ) AS journey_channels
