-- Metrics on contract 1.1's fields (docs/event-contract.md), each counted per event, so the
-- same in any arrival order:
-- - IVR escape: calls where the caller asked for a person, and trapped callers (asked, and the
--   call did not end transferred to an agent);
-- - bot containment: chatbot sessions the bot resolved without a hand-off, and hand-offs
--   asked for but not given; with the requests and resolutions they rest on;
-- - delivery failures: failed and undelivered receipts by the provider's error code (sends and
--   receipts by status, hence the delivery rate, are in rollup_messaging_* already);
-- - two-way messaging: reply-enabled sends, and the replies to them (a reply is a reply_proxy
--   receipt or, now, the customer's own message answering the send).
-- New measures default to 0 on the rows written before: those events carried no 1.1 field,
-- which the contract reads as false.
ALTER TABLE rollup_calls_hourly
    ADD COLUMN IF NOT EXISTS agent_requested_calls UInt64,
    ADD COLUMN IF NOT EXISTS trapped_calls UInt64;

ALTER TABLE rollup_calls_daily
    ADD COLUMN IF NOT EXISTS agent_requested_calls UInt64,
    ADD COLUMN IF NOT EXISTS trapped_calls UInt64;

ALTER TABLE rollup_chatbot_hourly
    ADD COLUMN IF NOT EXISTS handoff_requests UInt64,
    ADD COLUMN IF NOT EXISTS resolved_sessions UInt64,
    ADD COLUMN IF NOT EXISTS contained_sessions UInt64,
    ADD COLUMN IF NOT EXISTS denied_handoffs UInt64;

ALTER TABLE rollup_chatbot_daily
    ADD COLUMN IF NOT EXISTS handoff_requests UInt64,
    ADD COLUMN IF NOT EXISTS resolved_sessions UInt64,
    ADD COLUMN IF NOT EXISTS contained_sessions UInt64,
    ADD COLUMN IF NOT EXISTS denied_handoffs UInt64;

ALTER TABLE rollup_messaging_hourly ADD COLUMN IF NOT EXISTS reply_enabled_sends UInt64;

ALTER TABLE rollup_messaging_daily ADD COLUMN IF NOT EXISTS reply_enabled_sends UInt64;

ALTER TABLE rollup_replies_hourly
    ADD COLUMN IF NOT EXISTS replied_enabled_sends Int64,
    ADD COLUMN IF NOT EXISTS replied_enabled_latency_ms Int64;

ALTER TABLE rollup_replies_daily
    ADD COLUMN IF NOT EXISTS replied_enabled_sends Int64,
    ADD COLUMN IF NOT EXISTS replied_enabled_latency_ms Int64;

-- Failed and undelivered messages by the provider's error code ('' when it gave none); its
-- view is streams/sql/views/rollup_delivery_failures.sql.
CREATE TABLE IF NOT EXISTS rollup_delivery_failures_hourly
(
    hour DateTime('UTC'),
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    status LowCardinality(String),
    error_code LowCardinality(String),
    failures UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(hour)
-- Summing key = every dimension, time last, like every rollup.
ORDER BY (tenant, industry, use_case, channel, status, error_code, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS rollup_delivery_failures_daily
(
    day Date,
    tenant LowCardinality(String),
    industry LowCardinality(String),
    use_case LowCardinality(String),
    channel LowCardinality(String),
    status LowCardinality(String),
    error_code LowCardinality(String),
    failures UInt64
)
ENGINE = SummingMergeTree
-- Yearly partitions: every question compares whole years.
PARTITION BY toYear(day)
-- Summing key = every dimension, time last, like every rollup.
ORDER BY (tenant, industry, use_case, channel, status, error_code, day)
SETTINGS non_replicated_deduplication_window = 10000;

-- Analyst views (README.md, "Analyst views"), summed and with their ratios.
-- IVR escape per year: calls, those where the caller asked for a person, the trapped ones.
CREATE VIEW IF NOT EXISTS ivr_escape_yearly AS
SELECT
    toYear(day) AS year, tenant, industry, use_case,
    sum(calls) AS call_count,
    sum(agent_requested_calls) AS agent_requested_count,
    sum(trapped_calls) AS trapped_count,
    round(agent_requested_count / nullIf(call_count, 0), 6) AS agent_requested_share,
    round(trapped_count / nullIf(call_count, 0), 6) AS trapped_share
FROM rollup_calls_daily
WHERE kind = 'ivr_call'
GROUP BY year, tenant, industry, use_case;

-- Bot containment per year: sessions resolved without a hand-off, hand-offs refused.
CREATE VIEW IF NOT EXISTS bot_containment_yearly AS
SELECT
    toYear(day) AS year, tenant, industry, use_case, channel,
    sum(sessions) AS session_count,
    sum(contained_sessions) AS contained_count,
    sum(handoff_requests) AS handoff_request_count,
    sum(denied_handoffs) AS denied_handoff_count,
    round(contained_count / nullIf(session_count, 0), 6) AS containment_rate,
    round(denied_handoff_count / nullIf(handoff_request_count, 0), 6) AS denied_handoff_rate
FROM rollup_chatbot_daily
GROUP BY year, tenant, industry, use_case, channel;

-- Delivery per year and channel: sends, delivery receipts, failed and undelivered messages.
CREATE VIEW IF NOT EXISTS delivery_yearly AS
SELECT
    toYear(day) AS year, tenant, industry, use_case, channel,
    sum(sends) AS send_count,
    sumIf(receipts, status = 'delivered') AS delivered_count,
    sumIf(receipts, status = 'failed') AS failed_count,
    sumIf(receipts, status = 'undelivered') AS undelivered_count,
    round(delivered_count / nullIf(send_count, 0), 6) AS delivery_rate
FROM rollup_messaging_daily
GROUP BY year, tenant, industry, use_case, channel;
