-- description: Repeat contact per year, industry and use case (docs/customer-metrics.md): customers' contacts, those that repeat an earlier contact of the same customer within the repeat window (the repeat-contact rate), those followed by a repeat (first-contact resolution = 1 - followed / contacts, once the window has closed), the repeats where both contacts gave a reason and those with the same reason (Medallia: 22% of repeat calls are about the original call's issue), and, as the figure's error bar, the contacts on the days within the window after the day a pseudonymisation key was first used by a tenant that used another before (a day's precision: the bar is at most a day wider than the window). repeat_window_h: the window the worker runs with (JOURNEY_REPEAT_WINDOW, 168 by default). Filters: '' = all.
-- kinds: touch, ivr_call, chatbot_session, message_received
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
    sum(r.contacts) AS contacts,
    sum(r.repeats) AS repeats,
    round(repeats / nullIf(contacts, 0), 6) AS repeat_rate,
    sum(r.followed) AS followed,
    round(1 - followed / nullIf(contacts, 0), 6) AS first_contact_resolution,
    sum(r.reasoned_repeats) AS reasoned_repeats,
    sum(r.same_reason_repeats) AS same_reason_repeats,
    round(same_reason_repeats / nullIf(reasoned_repeats, 0), 6) AS same_reason_share,
    sumIf(
        r.contacts,
        k.began > k.tenant_began
            -- the window's days: from the first day to the day its last hour can fall on
            AND r.day <= k.began + toIntervalDay(intDiv({repeat_window_h:UInt32} + 23, 24))
    ) AS near_rotation
FROM rollup_customers_daily AS r
INNER JOIN keys AS k ON k.tenant = r.tenant AND k.key_id = r.key_id
WHERE r.day >= toDate({start:DateTime}) AND r.day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR r.tenant = {tenant:String})
  AND ({industry:String} = '' OR r.industry = {industry:String})
  AND ({use_case:String} = '' OR r.use_case = {use_case:String})
GROUP BY year, industry, use_case
ORDER BY year, industry, use_case
