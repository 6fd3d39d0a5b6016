-- description: IVR calls per month: count, mean duration (s) and the p50/p90 duration bins (lower bound, s, of the 5 s bin holding the quantile), for the filters given ('' = all).
-- kinds: ivr_call
SELECT
    month,
    sum(bin_calls) AS calls,
    round(sum(bin_ms) / 1000 / calls, 3) AS mean_s,
    quantileExactWeighted(0.5)(bin_s, bin_calls) AS p50_bin_s,
    quantileExactWeighted(0.9)(bin_s, bin_calls) AS p90_bin_s
FROM
(
    SELECT
        toStartOfMonth(day) AS month,
        duration_bucket_s AS bin_s,
        sum(calls) AS bin_calls,
        sum(duration_ms) AS bin_ms
    FROM rollup_calls_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND kind = 'ivr_call'
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY month, bin_s
)
GROUP BY month
ORDER BY month
