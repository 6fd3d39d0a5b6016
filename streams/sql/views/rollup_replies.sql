-- Replied sends: a message send and the first reply to it (a reply_proxy receipt, whether or
-- not it was the message's first read signal), counted once per message in the send's period,
-- cell, channel and purpose; reply_latency_ms sums the time from send to reply (0 if the
-- reply is stamped before the send). Sends are in rollup_messaging_*: replies / sends is the
-- reply rate (named query replied_sends_by_purpose). The tables are migration 0009's; a reply
-- displaced by an earlier one is retracted (sign -1) and the earlier one counted.
-- grains: hour, day
-- verify: sums
SELECT
    {period}, tenant, industry, use_case, channel, purpose, sum(sign) AS replied_sends,
    sum(sign * duration_ms) AS reply_latency_ms
FROM fenced_facts
WHERE fact = 'reply'
GROUP BY ALL
