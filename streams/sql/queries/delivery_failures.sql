-- description: Failed and undelivered messages per year by status and the provider's error code ('' when it gave none), with each code's share of the year's failures. Filters: '' = all.
-- kinds: message_receipt
SELECT
    toYear(day) AS year,
    status,
    error_code,
    sum(failures) AS messages,
    round(messages / sum(messages) OVER (PARTITION BY year), 6) AS share_of_failures
FROM rollup_delivery_failures_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
  AND ({industry:String} = '' OR industry = {industry:String})
  AND ({use_case:String} = '' OR use_case = {use_case:String})
  AND ({channel:String} = '' OR channel = {channel:String})
GROUP BY year, status, error_code
ORDER BY year, messages DESC, status, error_code
