-- description: Customers' web visits and those followed by the same customer's call or chat within the leakage window, calls and chats and those that came after a web visit, and repeat contacts that gave a reason and those with an earlier contact's reason, per year and industry (docs/customer-metrics.md): the cells the Report page measures Medallia's leakage (58% of travel bookers, 15% once the site was fixed), calls after web (70%) and same-reason repeats (22%) on. Filters: '' = all.
-- kinds: touch, ivr_call, chatbot_session, message_received
SELECT
    toYear(day) AS year,
    industry,
    sum(digital) AS web_visits,
    sum(leaked) AS leaked_visits,
    sum(assisted) AS calls_and_chats,
    sum(after_digital) AS after_web,
    sum(reasoned_repeats) AS reasoned_repeats,
    sum(same_reason_repeats) AS same_reason_repeats
FROM rollup_customers_daily
WHERE day >= toDate({start:DateTime}) AND day < toDate({end:DateTime})
  AND ({tenant:String} = '' OR tenant = {tenant:String})
GROUP BY year, industry
HAVING web_visits + calls_and_chats + reasoned_repeats != 0
ORDER BY year, industry
