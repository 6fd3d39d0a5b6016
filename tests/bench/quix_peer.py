"""The peer of `make bench`: Quix Streams computing the same rollups into the same ClickHouse
tables as `journey worker`.

It runs in a virtualenv of its own (``build/peer-venv``: quixstreams pins pydantic below the
project's pins), with the repository on PYTHONPATH. It consumes the interactions topic and, at
every Quix checkpoint, writes each partition's batch through the worker's own pure logic
(``plan_flush``) as one insert into ``ingest_facts``, so the very same views build the very
same rollups. Journey state lives in a dict: a throughput peer, not a crash-safe one.

    python tests/bench/quix_peer.py BOOTSTRAP TOPIC CLICKHOUSE_URL GROUP TOTAL

Exits once TOTAL records have been written.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from quixstreams import Application
from quixstreams.sinks import BatchingSink, SinkBatch

from streams.clickhouse import connect
from streams.logic.aggregate import FACT_COLUMNS, PartitionProgress, Rules, finish_rows, plan_flush
from streams.logic.ingest import SourceRecord


class FactsSink(BatchingSink):  # type: ignore[misc]
    """One insert into ingest_facts per partition batch, decided by ``plan_flush``."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.client = connect(url)
        self.progress: dict[int, PartitionProgress] = {}
        self.journeys: dict[str, Any] = {}
        self.written = 0

    def write(self, batch: SinkBatch) -> None:
        records = [
            SourceRecord(batch.topic, batch.partition, i.offset, i.timestamp, i.value or b"")
            for i in batch
        ]
        flush = plan_flush(records, self.progress, self.journeys.get, Rules())
        self.journeys.update(flush.journeys)
        rows = finish_rows(flush, lags={}, worker="quix-peer", now_ms=int(time.time() * 1000))
        self.client.insert(
            "ingest_facts",
            rows,
            column_names=list(FACT_COLUMNS),
            settings={
                "insert_deduplication_token": flush.token,
                "deduplicate_blocks_in_dependent_materialized_views": 1,
                "max_partitions_per_insert_block": 0,
            },
        )
        self.progress.update(flush.progress)
        self.written += len(records)


def main() -> int:
    bootstrap, topic_name, url, group, total = sys.argv[1:6]
    app = Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        commit_interval=1.0,
        loglevel="WARNING",
    )
    topic = app.topic(topic_name, value_deserializer="bytes", key_deserializer="bytes")
    sink = FactsSink(url)
    app.dataframe(topic=topic).sink(sink)

    def stop_when_done() -> None:
        while sink.written < int(total):
            time.sleep(0.2)
        time.sleep(1.5)  # let the last checkpoint commit
        app.stop()

    threading.Thread(target=stop_when_done, daemon=True).start()
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
