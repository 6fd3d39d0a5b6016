"""The peer of `make bench`: Quix Streams computing the same rollups into the same ClickHouse
tables as `journey worker`.

It runs in a virtualenv of its own (``build/peer-venv``: quixstreams pins pydantic below the
project's pins), with the repository on PYTHONPATH. It consumes the interactions topic and, at
every Quix checkpoint, decides each partition's batch through the worker's own pure logic
(``plan_flush``, its public function) and writes it as one column-oriented insert into
``ingest_facts``, so the very same views build the very same rollups. Journey states live in a
dict (stored in the worker's binary form): a throughput peer, not a crash-safe one (no
changelog, no leases).

    python tests/bench/quix_peer.py BOOTSTRAP TOPIC CLICKHOUSE_URL GROUP TOTAL

Exits once TOTAL records have been written.
"""

from __future__ import annotations

import sys
import threading
import time

from quixstreams import Application
from quixstreams.sinks import BatchingSink, SinkBatch

from streams.clickhouse.client import connect
from streams.logic.aggregate import PartitionBatch, PartitionProgress, Rules, finish, plan_flush
from streams.logic.journey_state import MemoryStates
from streams.sinks.clickhouse import facts_batch, insert


class FactsSink(BatchingSink):  # type: ignore[misc]
    """One insert into ingest_facts per partition batch, decided by ``plan_flush``."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.client = connect(url)
        self.progress: dict[int, PartitionProgress] = {}
        self.states = MemoryStates()
        self.written = 0

    def write(self, batch: SinkBatch) -> None:
        items = list(batch)
        records = PartitionBatch(
            batch.topic,
            batch.partition,
            [i.offset for i in items],
            [i.timestamp for i in items],
            [i.value or b"" for i in items],
        )
        flush = plan_flush([records], self.progress, self.states, Rules())
        self.states.save(flush.states)
        columns = finish(flush, lags={}, worker="quix-peer", now_ms=int(time.time() * 1000))
        insert(self.client, facts_batch(columns, flush.token))
        self.progress.update(flush.progress)
        self.written += len(items)


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
