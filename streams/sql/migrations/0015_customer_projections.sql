-- Projections of the daily customers rollup, so that leakage_rate and repeat_contact_rate
-- answer under the dashboard's 50 ms aim at 10 billion interactions a year (issue 16;
-- `make bench-queries`). Both queries need, besides the period's sums, each pseudonymisation
-- key's first day over the whole history (a key that is not its tenant's first is a rotation,
-- and the contacts in the window after it are the figures' error bar). Read from the table,
-- that is every row of every year (0.77 million at that volume): p95 about 95 ms.
--
-- by_key: each key's first day, a few rows per tenant. by_cell: the counts per key, cell and
-- day without channel, kind and reason, the rows the queries join to the keys (13 thousand
-- for 0.77 million in the bench). ClickHouse picks them by itself, as for migration 0013's;
-- tests/integration/test_named_queries.py checks that both queries read them.
--
-- A projection of a SummingMergeTree must be rebuilt when parts merge (0013 says why).
ALTER TABLE rollup_customers_daily MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

ALTER TABLE rollup_customers_daily ADD PROJECTION IF NOT EXISTS by_key
(
    SELECT tenant, key_id, min(day)
    GROUP BY tenant, key_id
);

ALTER TABLE rollup_customers_daily ADD PROJECTION IF NOT EXISTS by_cell
(
    SELECT tenant, industry, use_case, key_id, day,
        sum(digital), sum(leaked), sum(contacts), sum(assisted), sum(after_digital),
        sum(reasoned), sum(repeats), sum(reasoned_repeats), sum(same_reason_repeats),
        sum(followed)
    GROUP BY tenant, industry, use_case, key_id, day
);

ALTER TABLE rollup_customers_daily MATERIALIZE PROJECTION by_key;

ALTER TABLE rollup_customers_daily MATERIALIZE PROJECTION by_cell;
