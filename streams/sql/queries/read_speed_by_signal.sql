-- description: Read speed split by the signal it rests on, per year: for each signal (read receipt, click proxy, reply proxy), the read pairs resting on it, their coverage (share of the year's sends), the share read within 3 minutes and the mean time from send to signal (s). Filters: '' = all.
-- kinds: message_sent, message_receipt
SELECT
    r.year AS year,
    r.read_signal AS read_signal,
    r.read_pairs AS read_pairs,
    round(r.read_pairs / nullIf(s.sends, 0), 6) AS coverage,
    round(r.within_3_min / nullIf(r.read_pairs, 0), 6) AS read_within_3_min_share,
    round(r.latency_ms / 1000 / nullIf(r.read_pairs, 0), 3) AS mean_latency_s
FROM
(
    SELECT toYear(day) AS year, sum(sends) AS sends
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year
) AS s
INNER JOIN
(
    SELECT
        toYear(day) AS year, read_signal, sum(read_pairs) AS read_pairs,
        sum(read_within_3_min) AS within_3_min, sum(read_latency_ms) AS latency_ms
    FROM rollup_messaging_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND read_signal != '' AND status = ''
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY year, read_signal
    HAVING read_pairs > 0
) AS r ON r.year = s.year
ORDER BY year, read_signal
