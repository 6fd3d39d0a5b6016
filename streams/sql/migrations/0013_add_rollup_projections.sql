-- Projections of the two largest daily rollups, so that the dashboard's questions read a
-- fraction of the rows (issue 17: every named query p95 under 50 ms at 10 billion
-- interactions a year). At that volume rollup_messaging_daily holds about 3.6 million rows a
-- year, most of them read pairs split by latency bucket, and rollup_calls_daily 1.7 million,
-- split by duration bucket; a question that does not ask for the bucket reads a copy summed
-- without it, about ten times smaller (`make bench-queries` prints both tables' sizes).
--
-- ClickHouse keeps a projection inside every part and picks it by itself for a query whose
-- filters, keys and sums it can answer; nothing else changes: the worker inserts as before,
-- and a part written before this migration is read from the table until MATERIALIZE has
-- rebuilt it. The named queries that read these tables sum plain columns (a sumIf over a
-- status is taken in two steps: sum by status first), and
-- tests/integration/test_named_queries.py checks that each one reads a projection.
--
-- A projection of a SummingMergeTree must be rebuilt when parts merge (the merge sums rows,
-- the projection's sums must follow): deduplicate_merge_projection_mode = 'rebuild'.
-- Each projection is ordered tenant first, as the tables are: a brand's question reads its
-- own rows; a question over every brand reads the period's.
ALTER TABLE rollup_messaging_daily MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

-- Sends, receipts and read pairs without the latency bucket.
ALTER TABLE rollup_messaging_daily ADD PROJECTION IF NOT EXISTS by_cell
(
    SELECT tenant, industry, use_case, channel, purpose, status, read_signal, day,
        sum(sends), sum(reply_enabled_sends), sum(receipts), sum(read_pairs),
        sum(read_latency_ms), sum(read_within_3_min)
    GROUP BY tenant, industry, use_case, channel, purpose, status, read_signal, day
);

-- The latency histogram without the message's purpose.
ALTER TABLE rollup_messaging_daily ADD PROJECTION IF NOT EXISTS by_latency
(
    SELECT tenant, industry, use_case, channel, status, read_signal, latency_bucket_s, day,
        sum(read_pairs)
    GROUP BY tenant, industry, use_case, channel, status, read_signal, latency_bucket_s, day
);

ALTER TABLE rollup_messaging_daily MATERIALIZE PROJECTION by_cell;

ALTER TABLE rollup_messaging_daily MATERIALIZE PROJECTION by_latency;

ALTER TABLE rollup_calls_daily MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild';

-- Calls, durations and the IVR escape counts without the duration bucket.
ALTER TABLE rollup_calls_daily ADD PROJECTION IF NOT EXISTS by_cell
(
    SELECT tenant, industry, use_case, kind, outcome, purpose, day,
        sum(calls), sum(duration_ms), sum(late), sum(agent_requested_calls), sum(trapped_calls)
    GROUP BY tenant, industry, use_case, kind, outcome, purpose, day
);

-- The duration histogram without the call's outcome and purpose.
ALTER TABLE rollup_calls_daily ADD PROJECTION IF NOT EXISTS by_duration
(
    SELECT tenant, industry, use_case, kind, duration_bucket_s, day, sum(calls), sum(duration_ms)
    GROUP BY tenant, industry, use_case, kind, duration_bucket_s, day
);

ALTER TABLE rollup_calls_daily MATERIALIZE PROJECTION by_cell;

ALTER TABLE rollup_calls_daily MATERIALIZE PROJECTION by_duration;
