-- description: How complete a period's figures are: its interactions (receipts excluded), those that arrived late (behind their partition's watermark by more than the grace, applied all the same), and the records rejected (dead letters) received in the period, which no filter can place (a rejected record has no trusted tenant or time). Filters: '' = all (they do not apply to dead letters).
-- kinds: all but message_receipt
SELECT
    touches.interactions AS interactions,
    touches.late AS late,
    round(late / nullIf(interactions, 0), 6) AS late_share,
    rejected.dead_letters AS dead_letters
FROM
(
    SELECT sum(r.interactions) AS interactions, sum(r.late) AS late
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
    SELECT count() AS dead_letters
    FROM dead_letters
    WHERE received_at >= {start:DateTime} AND received_at < {end:DateTime}
) AS rejected
