-- description: How complete and how fresh each kind of interaction is: per kind, its interactions in the period and those that arrived late (applied all the same), and, from the minute rollup (the last two days), its interactions in the last 24 hours and the newest minute that had one (a kind that stops arriving while others flow points at its source). The dashboard's note under each figure reads the kinds the figure counts. Filters: '' = all.
-- kinds: all
-- The period's counts and the last day's arrivals stacked and summed by kind: a kind that
-- arrived in the last day but not in the period (a period of today, a source that stopped
-- yesterday) has its row too. A kind with nothing in the last day has last_day 0 and the
-- epoch for its newest minute.
SELECT
    kind,
    sum(interactions) AS interactions,
    sum(late) AS late,
    sum(recent) AS last_day,
    max(newest) AS newest_minute
FROM
(
    SELECT kind, sum(interactions) AS interactions, sum(late) AS late, 0 AS recent,
        toDateTime(0, 'UTC') AS newest
    FROM rollup_interactions_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
      AND ({channel:String} = '' OR channel = {channel:String})
    GROUP BY kind
    UNION ALL
    -- the minute rollup's rows may be split until merged: sum each minute, keep those with any
    SELECT kind, 0, 0, sum(n), max(minute)
    FROM
    (
        SELECT kind, minute, sum(interactions) AS n
        FROM rollup_interactions_minute
        WHERE minute >= now() - INTERVAL 1 DAY
          AND ({tenant:String} = '' OR tenant = {tenant:String})
          AND ({industry:String} = '' OR industry = {industry:String})
          AND ({use_case:String} = '' OR use_case = {use_case:String})
          AND ({channel:String} = '' OR channel = {channel:String})
        GROUP BY kind, minute
        HAVING n > 0
    )
    GROUP BY kind
)
GROUP BY kind
ORDER BY kind
