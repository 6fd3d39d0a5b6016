-- The lease fence, applied once: every fact row of an insert passes through here, and only
-- the rows written under the partition's newest lease (or a newer one) go on to
-- fenced_facts, which every other view reads. A worker that lost its partitions (paused past
-- the consumer session timeout, or finishing a batch during a rebalance) writes under a stale
-- lease, and its rows stop here, row by row, whenever they arrive. See docs/exactly-once.md.
-- verify: no, the fence is what the other views' checks prove
SELECT facts.*
FROM ingest_facts AS facts
LEFT JOIN
(
    SELECT kafka_topic AS lease_topic, kafka_partition AS lease_partition, max(epoch) AS leased
    FROM partition_leases
    GROUP BY lease_topic, lease_partition
) AS leases ON leases.lease_topic = kafka_topic AND leases.lease_partition = kafka_partition
WHERE epoch >= ifNull(leases.leased, 0)
