-- description: Conversations customers opened per year, industry and channel (social, chat; contract 1.1 conversation_id), those the brand answered within an hour and within a day, and those that waited a day or more (answered later, or not at all): the cells the Report page measures social response on. Filters: '' = all.
-- kinds: touch, message_received
SELECT
    toYear(day) AS year,
    industry,
    channel,
    sum(conversations) AS conversations,
    sum(answered) AS answered,
    sum(answered_within_1h) AS answered_within_1h,
    sum(answered_within_24h) AS answered_within_24h,
    conversations - answered_within_24h AS waited_a_day
FROM rollup_conversations_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry, channel
HAVING conversations != 0
ORDER BY year, industry, channel
