-- description: Repeat contact per year, industry and use case (docs/customer-metrics.md): customers' contacts, those that repeat an earlier contact of the same customer within the repeat window (the repeat-contact rate), those followed by a repeat (first-contact resolution = 1 - followed / contacts, once the window has closed), the repeats where both contacts gave a reason and those with the same reason (Medallia: 22% of repeat calls are about the original call's issue), and, as the figure's error bar, the contacts on the days within the window after the day a pseudonymisation key was first used by a tenant that used another before (a day's precision: the bar is at most a day wider than the window). repeat_window_h: the window the worker runs with (JOURNEY_REPEAT_WINDOW, 168 by default). Filters: '' = all.
-- kinds: touch, ivr_call, chatbot_session, message_received
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
        sum(contacts) AS contacts, sum(repeats) AS repeats, sum(followed) AS followed,
        sum(reasoned_repeats) AS reasoned_repeats,
        sum(same_reason_repeats) AS same_reason_repeats
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
FROM cells AS r
INNER JOIN keys AS k ON k.tenant = r.tenant AND k.key_id = r.key_id
GROUP BY year, industry, use_case
ORDER BY year, industry, use_case
