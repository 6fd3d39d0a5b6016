-- description: Records that broke the contract, per reason code, since a time: how many and when the last one arrived.
SELECT
    code,
    count() AS records,
    max(received_at) AS last_received_at,
    any(reason) AS example_reason
FROM dead_letters
WHERE received_at >= {since:DateTime64(3)}
GROUP BY code
ORDER BY records DESC, code
