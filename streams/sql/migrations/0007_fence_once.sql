-- The fence in one place. Until now every view joined partition_leases itself (15 copies of
-- the same join, pasted again by every migration that changed a view). From here on one view,
-- mv_fenced_facts (streams/sql/views/fenced_facts.sql), applies the fence to every row of an insert
-- into ingest_facts and passes the rows that hold the partition's newest lease to
-- fenced_facts; every other view reads fenced_facts. Like ingest_facts it stores nothing.
--
-- The views themselves are no longer created by migrations: each is declared once, in
-- streams/sql/views/, and `journey migrate` (re)installs any view whose definition changed after the
-- migrations ran (streams/clickhouse/views.py). Run with the workers stopped, as every migration.

CREATE TABLE IF NOT EXISTS fenced_facts AS ingest_facts ENGINE = Null;
