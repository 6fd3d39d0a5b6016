-- description: Digital-to-call leakage per year, industry and use case (docs/customer-metrics.md): customers' web visits and those followed by the same customer's call or chat within the leakage window (the leakage rate: Medallia's 58% of travel bookers, 15% once the site was fixed), calls and chats and those that came after a web visit (Medallia's 70%), and, as the figure's error bar, the calls and chats made on the days within the window after the day a pseudonymisation key was first used by a tenant that used another before (a day's precision: the bar is at most a day wider than the window) (their visit may sit under the old pseudonym). leakage_window_h: the window the worker runs with (JOURNEY_LEAKAGE_WINDOW, 24 by default). Filters: '' = all.
-- kinds: touch, ivr_call, chatbot_session
WITH keys AS
(
    -- Each key's first day per tenant; a key that is not the tenant's first is a rotation.
    -- Over the whole history, from the daily table's projection by key (migration 0015):
    -- read from the table it was every row of every year, 95 ms at 10 billion interactions
    -- a year (make bench-queries).
    SELECT tenant, key_id, began, min(began) OVER (PARTITION BY tenant) AS tenant_began
    FROM
    (
        SELECT tenant, key_id, min(day) AS began
        FROM rollup_customers_daily
        WHERE ({tenant:String} = '' OR tenant = {tenant:String})
        GROUP BY tenant, key_id
    )
),
cells AS
(
    -- The period's counts per key, cell and day, summed before the join so that they are
    -- read from the projection without channel, kind and reason (migration 0015).
    SELECT tenant, key_id, industry, use_case, day,
        sum(digital) AS digital, sum(leaked) AS leaked, sum(assisted) AS assisted,
        sum(after_digital) AS after_digital
    FROM rollup_customers_daily
    WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
      AND ({tenant:String} = '' OR tenant = {tenant:String})
      AND ({industry:String} = '' OR industry = {industry:String})
      AND ({use_case:String} = '' OR use_case = {use_case:String})
    GROUP BY tenant, key_id, industry, use_case, day
)
SELECT
    toYear(r.day) AS year,
    r.industry AS industry,
    r.use_case AS use_case,
    sum(r.digital) AS web_visits,
    sum(r.leaked) AS leaked_visits,
    round(leaked_visits / nullIf(web_visits, 0), 6) AS leakage_rate,
    sum(r.assisted) AS calls_and_chats,
    sum(r.after_digital) AS after_web,
    round(after_web / nullIf(calls_and_chats, 0), 6) AS after_web_share,
    sumIf(
        r.assisted,
        k.began > k.tenant_began
            -- the window's days: from the first day to the day its last hour can fall on
            AND r.day <= k.began + toIntervalDay(intDiv({leakage_window_h:UInt32} + 23, 24))
    ) AS near_rotation
FROM cells AS r
INNER JOIN keys AS k ON k.tenant = r.tenant AND k.key_id = r.key_id
GROUP BY year, industry, use_case
ORDER BY year, industry, use_case
