-- Replied sends: a message send and the first reply to it (a reply_proxy receipt, whether or
-- not it was the message's first read signal), counted once per message in the send's period,
-- cell, channel and purpose; reply_latency_ms sums the time from send to reply (0 if the
-- reply is stamped before the send). Sends are in rollup_messaging_*: replies / sends is the
-- reply rate (named query replied_sends_by_purpose). A reply is a reply_proxy receipt or the
-- customer's own message answering the send (message_received with in_reply_to, contract
-- 1.1); replied_enabled_* count the replies to reply-enabled sends (two_way_messaging). The
-- tables are migrations 0009's and 0011's; a reply displaced by an earlier one is retracted
-- (sign -1) and the earlier one counted.
-- grains: hour, day
-- verify: sums
SELECT
    {period}, tenant, industry, use_case, channel, purpose, sum(sign) AS replied_sends,
    sum(sign * duration_ms) AS reply_latency_ms,
    sumIf(sign, reply_enabled) AS replied_enabled_sends,
    sumIf(sign * duration_ms, reply_enabled) AS replied_enabled_latency_ms
FROM fenced_facts
WHERE fact = 'reply'
GROUP BY ALL
