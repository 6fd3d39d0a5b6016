-- Contract 1.1 (streams/events.py, docs/event-contract.md): the fields it adds, stored with the
-- raw events and carried by the worker's fact rows. Every one is optional: an event of 1.0, or
-- of a kind that lacks the field, stores '' (strings) or false (flags), as the contract says
-- absent means. New columns only: parts written before are read with the defaults, nothing is
-- rewritten.
--
-- In the raw table they follow the contract's 1.0 fields, in the contract's order.
ALTER TABLE interactions ADD COLUMN IF NOT EXISTS conversation_id String AFTER handed_off;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS contact_reason LowCardinality(String) AFTER conversation_id;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS agent_requested Bool AFTER contact_reason;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS exit_reason LowCardinality(String) AFTER agent_requested;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS reply_enabled Bool AFTER exit_reason;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS error_code LowCardinality(String) AFTER reply_enabled;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS handoff_requested Bool AFTER error_code;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS resolved Bool AFTER handoff_requested;

ALTER TABLE interactions ADD COLUMN IF NOT EXISTS in_reply_to String AFTER resolved;

-- The worker's fact rows: after every column so far (an older worker leaves them out).

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS conversation_id String;

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS contact_reason LowCardinality(String);

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS agent_requested Bool;

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS exit_reason LowCardinality(String);

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS reply_enabled Bool;

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS error_code LowCardinality(String);

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS handoff_requested Bool;

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS resolved Bool;

ALTER TABLE ingest_facts ADD COLUMN IF NOT EXISTS in_reply_to String;


ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS conversation_id String;

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS contact_reason LowCardinality(String);

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS agent_requested Bool;

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS exit_reason LowCardinality(String);

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS reply_enabled Bool;

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS error_code LowCardinality(String);

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS handoff_requested Bool;

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS resolved Bool;

ALTER TABLE fenced_facts ADD COLUMN IF NOT EXISTS in_reply_to String;


