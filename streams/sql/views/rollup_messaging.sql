-- Sends (by purpose; those the customer can answer, contract 1.1), receipts (by status and signal) and read pairs (a send and its earliest
-- read signal, in the send's period and cell, by latency bucket; a pair an earlier signal
-- displaced is retracted, sign -1).
-- grains: hour, day
-- verify: sums
SELECT
    {period}, tenant, industry, use_case, channel,
    if(kind = 'message_sent' OR fact = 'read_pair', purpose, '') AS purpose,
    if(fact = 'read_pair', '', status) AS status,
    read_signal,
    if(fact = 'read_pair', bucket_s, 0) AS latency_bucket_s,
    countIf(fact = 'interaction' AND kind = 'message_sent') AS sends,
    countIf(fact = 'interaction' AND kind = 'message_sent' AND reply_enabled) AS reply_enabled_sends,
    countIf(fact = 'interaction' AND kind = 'message_receipt') AS receipts,
    sumIf(sign, fact = 'read_pair') AS read_pairs,
    sumIf(sign * duration_ms, fact = 'read_pair') AS read_latency_ms,
    sumIf(sign, fact = 'read_pair' AND duration_ms <= 180000) AS read_within_3_min
FROM fenced_facts
WHERE (fact = 'interaction' AND kind IN ('message_sent', 'message_receipt'))
    OR fact = 'read_pair'
GROUP BY ALL
