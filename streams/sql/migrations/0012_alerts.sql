-- Threshold alerts that fired (dashboard/alerts.py, `journey alerts check`): one row per rule
-- and period it fired for, written after its delivery succeeded. The check reads this table
-- first, so a rule is delivered once per period however often the check runs; a second row
-- for the same rule and period (two checks at once) is one row after merges, and reads with
-- FINAL see one.
CREATE TABLE IF NOT EXISTS alerts
(
    rule_id String,
    period_start Date,
    period_end Date,  -- exclusive
    compare_start Date,
    compare_end Date,
    metric LowCardinality(String),
    slice String,  -- the rule's slice as JSON (tenant, industry, use_case, channel)
    value Float64,
    previous Float64,
    change Float64,  -- in `unit`: points for a share, percent otherwise
    unit LowCardinality(String),
    message String,
    targets Array(String),
    fired_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
-- A rule fires at most once per period: the key the check looks a firing up by.
ORDER BY (rule_id, period_start, period_end)
SETTINGS non_replicated_deduplication_window = 1000;
