-- Failed and undelivered messages (receipts of those statuses, contract 1.1) by the
-- provider's error code, per period and cell; the table is migration 0011's.
-- grains: hour, day
-- verify: sums
SELECT {period}, tenant, industry, use_case, channel, status, error_code,
    count() AS failures
FROM fenced_facts
WHERE fact = 'interaction' AND kind = 'message_receipt' AND status IN ('failed', 'undelivered')
GROUP BY ALL
