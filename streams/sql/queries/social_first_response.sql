-- description: First response per year and channel (social, chat): conversations a customer opened, the share the brand answered within 1 hour and within 24 hours, the share answered only after a day, the share unanswered, and the mean time to the first response (s). A conversation is opened by the customer's earliest message in it; its first response is the brand's earliest reply at or after that (contract 1.1 conversation_id). Filters: '' = all.
-- kinds: touch, message_received
SELECT
    toYear(day) AS year,
    channel,
    sum(conversations) AS opened,
    round(sum(answered_within_1h) / nullIf(opened, 0), 6) AS within_1h_share,
    round(sum(answered_within_24h) / nullIf(opened, 0), 6) AS within_24h_share,
    round((sum(answered) - sum(answered_within_24h)) / nullIf(opened, 0), 6) AS after_a_day_share,
    round((opened - sum(answered)) / nullIf(opened, 0), 6) AS unanswered_share,
    round(sum(response_ms) / 1000 / nullIf(sum(answered), 0), 3) AS mean_first_response_s
FROM rollup_conversations_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
GROUP BY year, channel
HAVING opened != 0
ORDER BY year, channel
