-- Every record that broke the contract: why, and what is kept of it (cut and redacted).
-- verify: rows by code
SELECT
    kafka_timestamp AS received_at, kafka_topic, kafka_partition, kafka_offset, code, reason,
    original, original_size, original_sha256
FROM fenced_facts
WHERE fact = 'dead_letter'
