-- description: Read latency from send to first read signal, as a histogram: read pairs per latency bin (lower bound, s) and each bin's share, for one channel or all ('' = all).
-- kinds: message_sent, message_receipt
SELECT latency_bin_s, read_pairs, round(read_pairs / sum(read_pairs) OVER (), 6) AS share
FROM
(
    SELECT latency_bucket_s AS latency_bin_s, sum(read_pairs) AS read_pairs
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND read_signal != '' AND status = ''
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY latency_bin_s
    HAVING read_pairs > 0
)
ORDER BY latency_bin_s
