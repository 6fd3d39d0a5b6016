-- description: Two-way messaging per year and message purpose: sends, sends the customer replied to (first reply counted once per message), reply rate and mean time to the reply (s). Filters: '' = all.
-- kinds: message_sent, message_receipt, message_received
SELECT
    s.year AS year,
    s.purpose AS purpose,
    s.sends AS sends,
    ifNull(r.replied_sends, 0) AS replied_sends,
    round(replied_sends / nullIf(sends, 0), 6) AS reply_rate,
    round(r.reply_latency_ms / 1000 / nullIf(replied_sends, 0), 3) AS mean_reply_s
FROM
(
    SELECT toYear(day) AS year, purpose, sum(sends) AS sends
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND purpose != ''
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year, purpose
    HAVING sends > 0
) AS s
LEFT JOIN
(
    SELECT toYear(day) AS year, purpose, sum(replied_sends) AS replied_sends,
        sum(reply_latency_ms) AS reply_latency_ms
    FROM rollup_replies_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year, purpose
) AS r ON r.year = s.year AND r.purpose = s.purpose
ORDER BY year, purpose
