-- The raw table by Kafka offset (issue 18: `journey verify --offsets` and `--from/--to`
-- check the topic against the raw table a range of offsets at a time, in bounded memory).
-- The table is ordered by tenant and hour, so a partition's offsets are spread over every
-- part and granule: read by offset it was read whole for each range. This projection keeps
-- the four columns the check reads ordered by (partition, offset), so a range reads its own
-- rows; ClickHouse picks it by itself, and tests/integration/test_verify_offsets.py checks
-- that the check's query reads it. It costs each insert a sort of those four columns.
ALTER TABLE interactions ADD PROJECTION IF NOT EXISTS by_offset
(
    SELECT kafka_partition, kafka_offset, journey_id, event_id
    -- a range of one partition's offsets is one contiguous read
    ORDER BY kafka_partition, kafka_offset
);

ALTER TABLE interactions MATERIALIZE PROJECTION by_offset;
