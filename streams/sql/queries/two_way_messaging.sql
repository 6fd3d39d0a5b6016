-- description: Two-way messaging per year and channel: sends, the share the customer could answer (reply-enabled, contract 1.1), the replies to those (a reply-proxy receipt or the customer's own message, earliest counted once per message), the reply rate (replied / reply-enabled sends) and the mean time to the reply (s). Sends published without reply_enabled count as not reply-enabled. Filters: '' = all.
-- kinds: message_sent, message_receipt, message_received
SELECT
    s.year AS year,
    s.channel AS channel,
    s.sends AS sends,
    s.reply_enabled_sends AS reply_enabled_sends,
    round(reply_enabled_sends / nullIf(sends, 0), 6) AS reply_enabled_share,
    ifNull(r.replied, 0) AS replied,
    round(replied / nullIf(reply_enabled_sends, 0), 6) AS reply_rate,
    round(r.latency_ms / 1000 / nullIf(replied, 0), 3) AS mean_reply_s
FROM
(
    SELECT toYear(day) AS year, channel, sum(sends) AS sends,
        sum(reply_enabled_sends) AS reply_enabled_sends
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year, channel
    HAVING sends > 0
) AS s
LEFT JOIN
(
    SELECT toYear(day) AS year, channel, sum(replied_enabled_sends) AS replied,
        sum(replied_enabled_latency_ms) AS latency_ms
    FROM rollup_replies_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year, channel
) AS r ON r.year = s.year AND r.channel = s.channel
ORDER BY year, channel
