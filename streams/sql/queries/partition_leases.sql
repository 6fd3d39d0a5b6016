-- description: Per partition of a topic: the newest lease (epoch), the worker holding it and when it was taken. A worker takes a lease on every assignment; rows written under an older epoch are dropped by the views (migration 0005).
SELECT
    kafka_partition,
    max(epoch) AS newest_epoch,
    argMax(worker, epoch) AS held_by,
    argMax(leased_at, epoch) AS leased_at
FROM partition_leases
WHERE kafka_topic = {topic:String}
GROUP BY kafka_partition
ORDER BY kafka_partition
