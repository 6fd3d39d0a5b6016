-- description: Digital-to-call leakage per year, industry and use case (docs/customer-metrics.md): customers' web visits and those followed by the same customer's call or chat within the leakage window (the leakage rate: Medallia's 58% of travel bookers, 15% once the site was fixed), calls and chats and those that came after a web visit (Medallia's 70%), and, as the figure's error bar, the calls and chats made on the days within the window after the day a pseudonymisation key was first used by a tenant that used another before (a day's precision: the bar is at most a day wider than the window) (their visit may sit under the old pseudonym). leakage_window_h: the window the worker runs with (JOURNEY_LEAKAGE_WINDOW, 24 by default). Filters: '' = all.
-- kinds: touch, ivr_call, chatbot_session
WITH keys AS
(
    -- Each key's first day per tenant; a key that is not the tenant's first is a rotation.
    -- The daily table: the hourly one is 24 times larger, and read whole here it made the
    -- query take a second at 10 billion interactions a year (make bench-queries).
    SELECT tenant, key_id, min(day) AS began,
        min(min(day)) OVER (PARTITION BY tenant) AS tenant_began
    FROM rollup_customers_daily
    WHERE ({tenant:String} = '' OR tenant = {tenant:String})
    GROUP BY tenant, key_id
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
FROM rollup_customers_daily AS r
INNER JOIN keys AS k ON k.tenant = r.tenant AND k.key_id = r.key_id
WHERE r.day >= toDate({start:DateTime}) AND r.day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR r.tenant = {tenant:String})
  AND ({industry:String} = '' OR r.industry = {industry:String})
  AND ({use_case:String} = '' OR r.use_case = {use_case:String})
GROUP BY year, industry, use_case
ORDER BY year, industry, use_case
