-- Whether each raw event arrived late (behind its partition's event-time watermark), as the
-- worker decided it (issue 18: `journey verify --from/--to` recomputes the rollups from the
-- raw table for any window, even one whose source records the topic no longer holds, and
-- `late` is the one measure no event's own fields can say: it depends on what arrived before
-- it). The topic step (`--offsets`) checks the flag against the records. Rows stored before
-- this migration read -1: not recorded (their window's `late` sums are reported unchecked);
-- nothing is rewritten.
ALTER TABLE interactions ADD COLUMN IF NOT EXISTS late Int8 DEFAULT -1 AFTER kafka_offset;

-- The projection by offset (migration 0016) carries the flag and the event time too: the
-- topic step reads each range's flags with its rows, and the partition's watermark before the
-- range (the newest event time of the rows before its first offset) from the same projection.
-- A projection's columns cannot be changed in place: it is dropped and built again.
ALTER TABLE interactions DROP PROJECTION IF EXISTS by_offset;

ALTER TABLE interactions ADD PROJECTION IF NOT EXISTS by_offset
(
    SELECT kafka_partition, kafka_offset, journey_id, event_id, occurred_at, late
    -- a range of one partition's offsets is one contiguous read
    ORDER BY kafka_partition, kafka_offset
);

ALTER TABLE interactions MATERIALIZE PROJECTION by_offset;
