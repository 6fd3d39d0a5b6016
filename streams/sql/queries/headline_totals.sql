-- description: The counts the written headlines rest on, for one period: interactions (receipts excluded) and those of smart notifications, IVR calls and their total duration (ms), read pairs and those read within 3 minutes of the send, journeys and their distinct channels. Run for the period and for the comparison period. Filters: '' = all (channel does not apply to journeys).
-- kinds: all
-- One single-row answer per rollup, joined: each rollup is read once.
SELECT *
FROM
(
    -- r.interactions: the column (interactions alone is the sum's alias)
    SELECT
        sum(r.interactions) AS interactions,
        sumIf(r.interactions, use_case = 'smart_notification') AS smart_notification_interactions
    FROM rollup_interactions_daily AS r
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind != 'message_receipt'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
) AS touches
CROSS JOIN
(
    SELECT sum(calls) AS ivr_calls, sum(duration_ms) AS ivr_duration_ms
    FROM rollup_calls_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind = 'ivr_call'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
) AS calls
CROSS JOIN
(
    SELECT sum(m.read_pairs) AS read_pairs, sum(m.read_within_3_min) AS read_within_3_min
    FROM rollup_messaging_daily AS m
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
) AS reads
CROSS JOIN
(
    SELECT sum(j.journeys) AS journeys, sum(j.channels) AS journey_channels
    FROM rollup_journeys_daily AS j
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
) AS journeys
