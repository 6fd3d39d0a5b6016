-- description: Which signal read figures rest on: per channel, sends, and the sends whose first read signal was a true read receipt, a click or a reply (share of sends). Filters: '' = all.
-- kinds: message_sent, message_receipt
SELECT
    s.channel AS channel,
    s.sends AS sends,
    r.read_signal AS read_signal,
    r.read_pairs AS read_pairs,
    round(r.read_pairs / nullIf(s.sends, 0), 6) AS share_of_sends
FROM
(
    SELECT channel, sum(sends) AS sends
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY channel
) AS s
INNER JOIN
(
    SELECT channel, read_signal, sum(read_pairs) AS read_pairs
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND read_signal != '' AND status = ''
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY channel, read_signal
    HAVING read_pairs > 0
) AS r ON r.channel = s.channel
ORDER BY channel, read_signal
