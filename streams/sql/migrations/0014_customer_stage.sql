-- The second, customer-keyed stage (issue 16, docs/customer-metrics.md): digital-to-call
-- leakage and repeat contact. Its fact rows go through ingest_facts and the fence like the
-- first stage's (fact = 'customer', kafka_topic = the customers topic), one row per count a
-- customer's event turned on: `measure` says which (streams/logic/customers.py MEASURES) and
-- `key_id` which pseudonymisation key the customer's pseudonym was made with, so a query can
-- count what falls near a key rotation. New columns only: earlier parts read ''.
ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS measure LowCardinality(String);

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS key_id LowCardinality(String);

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS measure LowCardinality(String);

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS key_id LowCardinality(String);

-- The counts per period and cell (the cell of the event each count is about: a leaked web
-- visit on the visit's day, a repeat on the repeat's); its view is
-- streams/sql/views/rollup_customers.sql.
CREATE TABLE IF NOT EXISTS rollup_customers_hourly
(
    hour DateTime('UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    kind LowCardinality(String),
    contact_reason LowCardinality(String),
    key_id LowCardinality(String),
    digital UInt64,
    leaked UInt64,
    contacts UInt64,
    assisted UInt64,
    after_digital UInt64,
    reasoned UInt64,
    repeats UInt64,
    reasoned_repeats UInt64,
    same_reason_repeats UInt64,
    followed UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(hour)
-- Summing key = every dimension, time last, like every rollup.
ORDER BY (tenant, industry, use_case, channel, kind, contact_reason, key_id, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS rollup_customers_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    kind LowCardinality(String),
    contact_reason LowCardinality(String),
    key_id LowCardinality(String),
    digital UInt64,
    leaked UInt64,
    contacts UInt64,
    assisted UInt64,
    after_digital UInt64,
    reasoned UInt64,
    repeats UInt64,
    reasoned_repeats UInt64,
    same_reason_repeats UInt64,
    followed UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(day)
-- Summing key = every dimension, time last, like every rollup.
ORDER BY (tenant, industry, use_case, channel, kind, contact_reason, key_id, day)
SETTINGS non_replicated_deduplication_window = 10000;

-- For analysts: the customer-level figures per year (README "Analyst views"), summed and with
-- their rates (docs/customer-metrics.md).
CREATE VIEW IF NOT EXISTS customer_metrics_yearly AS
SELECT
    toYear(day) AS year, tenant, industry, use_case,
    sum(digital) AS web_visit_count,
    sum(leaked) AS leaked_visit_count,
    round(leaked_visit_count / nullIf(web_visit_count, 0), 6) AS leakage_rate,
    sum(assisted) AS call_and_chat_count,
    sum(after_digital) AS after_web_count,
    round(after_web_count / nullIf(call_and_chat_count, 0), 6) AS after_web_share,
    sum(contacts) AS contact_count,
    sum(repeats) AS repeat_count,
    round(repeat_count / nullIf(contact_count, 0), 6) AS repeat_rate,
    sum(followed) AS followed_count,
    sum(reasoned_repeats) AS reasoned_repeat_count,
    sum(same_reason_repeats) AS same_reason_repeat_count,
    round(same_reason_repeat_count / nullIf(reasoned_repeat_count, 0), 6) AS same_reason_share
FROM rollup_customers_daily
GROUP BY year, tenant, industry, use_case;
