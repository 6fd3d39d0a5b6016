-- Views for analysts over the rollups: each already sums the SummingMergeTree parts (so no
-- one needs to know the engine) and derives the documented ratios. Columns are listed in
-- README.md ("Analyst views"). Plain views: they cost nothing until queried.

-- Channel mix: interactions (receipts excluded) per year, tenant, industry, use case, channel.
CREATE VIEW IF NOT EXISTS channel_mix_yearly AS
SELECT
    toYear(hour) AS year, tenant, industry, use_case, channel,
    sum(interactions) AS interactions,
    sum(late) AS late_interactions
FROM rollup_interactions_hourly
WHERE kind != 'message_receipt'
GROUP BY year, tenant, industry, use_case, channel;

-- Voice: IVR and notification calls per month, with total and mean duration in seconds.
CREATE VIEW IF NOT EXISTS calls_monthly AS
SELECT
    toStartOfMonth(hour) AS month, tenant, industry, use_case, kind, outcome, purpose,
    sum(calls) AS call_count,
    sum(duration_ms) / 1000 AS duration_s_total,
    round(duration_s_total / call_count, 3) AS mean_duration_s
FROM rollup_calls_hourly
GROUP BY month, tenant, industry, use_case, kind, outcome, purpose;

-- Messaging per month: sends, receipts, read pairs (a send with a read signal), reads within
-- three minutes of the send, and the mean read latency in seconds.
CREATE VIEW IF NOT EXISTS messaging_monthly AS
SELECT
    toStartOfMonth(hour) AS month, tenant, industry, use_case, channel,
    sum(sends) AS send_count,
    sum(receipts) AS receipt_count,
    sum(read_pairs) AS read_pair_count,
    sum(read_within_3_min) AS read_within_3_min_count,
    round(sum(read_latency_ms) / 1000 / nullIf(read_pair_count, 0), 3) AS mean_read_latency_s
FROM rollup_messaging_hourly
GROUP BY month, tenant, industry, use_case, channel;

-- Journeys per year (placed in the hour of their first event) and channels per journey.
CREATE VIEW IF NOT EXISTS journeys_yearly AS
SELECT
    toYear(hour) AS year, tenant, industry, use_case,
    sum(journeys) AS journey_count,
    sum(channels) AS channel_count,
    round(channel_count / nullIf(journey_count, 0), 4) AS channels_per_journey
FROM rollup_journeys_hourly
GROUP BY year, tenant, industry, use_case;

-- Chatbot sessions per year and the share handed to a human.
CREATE VIEW IF NOT EXISTS chatbot_yearly AS
SELECT
    toYear(hour) AS year, tenant, industry, use_case, channel,
    sum(sessions) AS session_count,
    sum(handed_off) AS handed_off_count,
    round(handed_off_count / nullIf(session_count, 0), 6) AS hand_off_rate
FROM rollup_chatbot_hourly
GROUP BY year, tenant, industry, use_case, channel;
