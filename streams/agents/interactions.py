"""The ingest agent: Kafka records in, one exact ClickHouse insert per flush out.

Thin on purpose: every decision is ``streams.logic.aggregate.plan_flush``, a pure function.
Per batch (up to ``BATCH_MAX`` records or ``BATCH_WITHIN_S``), the agent:

1. knows, per partition, what ClickHouse already holds (``ingest_progress``, reloaded after
   every rebalance) and lets the logic skip it;
2. stores the journey states the batch changed in the ``journeys`` table and sends dead
   letters, then waits until the producer has flushed both (the changelog is never behind
   ClickHouse);
3. writes the flush as one insert into ``ingest_facts``, retried as the very same batch until
   ClickHouse takes it (the agent pulls nothing meanwhile: bounded memory);
4. only then asks for the next batch, which acknowledges this one's records: Kafka's
   committed offsets never pass what ClickHouse holds.

Why this is exact, and where it is not, is in docs/exactly-once.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import faust

from streams import queries
from streams.errors import RESTART_EXIT_CODE
from streams.logic.aggregate import (
    FACT_COLUMNS,
    Flush,
    PartitionProgress,
    Rules,
    expired,
    finish_rows,
    plan_flush,
    supersedes,
)
from streams.logic.health import PartitionHealth, partition_health, stall_reasons
from streams.logic.ingest import SourceRecord, dead_letter_value
from streams.logic.times import to_ms
from streams.metrics import WorkerMetrics
from streams.sinks.clickhouse import Batch, ClickHouseSink
from streams.topics import Topics

log = logging.getLogger(__name__)

BATCH_MAX = 50_000
BATCH_WITHIN_S = 1.0
SWEEP_EVERY_S = 300.0
SLOW_INSERT_S = 5.0  # half the session timeout
PROGRESS_QUERY = queries.load("partition_progress")
LEASE_QUERY = queries.load("partition_leases")
LEASE_COLUMNS = ("kafka_topic", "kafka_partition", "epoch", "worker", "leased_at")
UNSEEN = PartitionProgress()


def worker_name() -> str:
    """``host:pid``, written with every flush so pipeline_health says who did what."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Progress:
    """Per partition, what ClickHouse holds (offset, watermark); reloaded after a rebalance."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.partitions: dict[int, PartitionProgress] = {}
        self.starts: dict[int, int] = {}  # where each assigned partition was sought to
        self.epochs: dict[int, int] = {}  # this worker's lease on each assigned partition
        self.stale = True
        # Set once the assignment hook has taken the leases and recorded where each partition
        # starts. Faust sends its assignment signal after it has started table recovery, so
        # records can reach the agent before the hook is done: the agent waits for it.
        self.assigned = asyncio.Event()
        self.owned: set[int] = set()  # partitions of the current assignment
        # When each owned partition last reached ClickHouse (or was assigned), monotonic.
        self.advanced: dict[int, float] = {}

    async def current(self, sink: ClickHouseSink) -> dict[int, PartitionProgress]:
        """What the next batch is decided against."""
        if self.stale:
            rows = await sink.read(PROGRESS_QUERY.sql, {"topic": self.topic})
            self.partitions = {
                int(p): PartitionProgress(int(offset), to_ms(watermark))
                for p, offset, watermark, _flushed in rows
            }
            self.stale = False
        return self.partitions


def first_gap(
    records: list[SourceRecord],
    known: dict[int, PartitionProgress],
    starts: dict[int, int],
) -> str | None:
    """``partition:first-last`` of offsets missing between what ClickHouse holds (or, for a
    partition it holds nothing of, the log start seen on assignment) and the first new record
    of that partition in this batch, or None. Offsets of a partition are consecutive (no
    transactional producer writes to the interactions topic)."""
    expected = dict(starts)
    expected.update({p: pp.offset + 1 for p, pp in known.items()})
    for r in records:
        want = expected.get(r.partition, r.offset)
        if r.offset > want:
            return f"{r.partition}:{want}-{r.offset - 1}"
        expected[r.partition] = max(want, r.offset + 1)
    return None


def to_source(event: Any) -> SourceRecord:
    """The parts of a Faust event the pure logic needs."""
    message = event.message
    return SourceRecord(
        message.topic,
        message.partition,
        message.offset,
        int(message.timestamp * 1000),
        message.value or b"",
    )


class JourneyTable(faust.Table):
    """The ``journeys`` table, recovered so that a stale entry never replaces a newer state.

    Faust applies changelog entries in order, the last one winning. A worker paused past its
    session timeout can write its entries after the partition's new owner wrote newer ones;
    recovery then keeps, per journey, the state that has seen the most (``supersedes``)."""

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        chosen: dict[Any, Any] = {}
        for event in batch:
            key = self._to_key(event.key)
            value = None if event.message.value is None else event.value
            if key in chosen:
                previous = chosen[key]
                held = None if previous.message.value is None else previous.value
            else:
                held = self.data.get(key)
            if supersedes(value, held):
                chosen[key] = event
        super().apply_changelog_batch(chosen.values())


def declare_journeys(app: Any, partitions: int) -> Any:
    """The ``journeys`` table: per journey id, de-duplication and join state (JSON)."""
    table = app.tables.add(
        JourneyTable(
            app,
            name="journeys",
            default=None,
            beacon=app.tables.beacon,
            partitions=partitions,
            # Keys are the journey id bytes, the very key events are published with, and the
            # producer's partitioner places each changelog entry in the partition its events
            # are consumed from (Faust's default would use the partition of the *last* event
            # of a take_events batch).
            use_partitioner=True,
            key_type=bytes,
            help="Journey state: event ids seen, channels used, message send/read join.",
        )
    )
    # Faust derives "json" for both from the types; the key must stay the raw journey id bytes
    # so the partitioner hashes it exactly as the publisher did. Set before the changelog
    # topic is first used.
    table.key_serializer = "raw"
    table.value_serializer = "json"
    return table


def register(
    app: Any,
    topics: Topics,
    sink: ClickHouseSink,
    rules: Rules,
    metrics: WorkerMetrics | None = None,
    clock: Callable[[], float] = time.time,
    stall_after_s: float = 60.0,
) -> Any:
    """Attach the ingest agent (and its table and /metrics page) to ``app``; return the agent."""
    progress = Progress(topics.interactions.get_topic_name())
    journeys = declare_journeys(app, topics.interactions.partitions or 1)
    metrics = metrics or WorkerMetrics()
    name = worker_name()
    last_sweep = clock()

    @app.on_partitions_assigned.connect
    async def _assigned(_sender: Any, assigned: Any = (), **__: Any) -> None:
        """Take the leases, then make Kafka's committed offsets what ClickHouse holds.

        Faust seeks each assigned partition to its committed offset once its tables are
        recovered, and a partition with no committed offset is not moved: records fetched
        during recovery can be dropped and never read again (seen in the SIGKILL test).
        Faust sends this signal after it started recovery, so the commit may come after the
        seek; then the agent's gap guard, which waits for this hook, sees the skipped records
        and restarts the process, whose seek lands on the committed ClickHouse position."""
        progress.assigned.clear()
        try:
            await on_assignment([tp for tp in assigned if tp.topic == progress.topic])
        finally:
            progress.assigned.set()

    async def on_assignment(mine: list[Any]) -> None:
        progress.stale = True
        progress.owned = {tp.partition for tp in mine}
        assigned_at = time.monotonic()
        progress.advanced = {p: assigned_at for p in progress.owned}
        if not mine:
            return
        # The lease first, then the progress: whatever a previous owner applied before our
        # lease is in the progress we read next; whatever it sends after is dropped by the
        # views (migration 0005). A paused zombie cannot count a batch twice.
        await take_leases(sorted(tp.partition for tp in mine))
        stored = await progress.current(sink)
        earliest = await app.consumer.earliest_offsets(*mine)
        offsets = {
            tp: max(stored.get(tp.partition, UNSEEN).offset + 1, int(earliest.get(tp) or 0))
            for tp in mine
        }
        progress.starts.update({tp.partition: offset for tp, offset in offsets.items()})
        # Faust's public commit only commits acknowledged records; this is its driver's
        # commit of explicit offsets (faust-streaming 0.15, pinned).
        await app.consumer._commit(offsets)
        progress.stale = True  # reread after the seek, in the agent

    async def take_leases(partitions: list[int]) -> None:
        rows = await sink.read(LEASE_QUERY.sql, {"topic": progress.topic})
        newest = {int(p): int(epoch) for p, epoch, *_ in rows}
        epochs = {p: newest.get(p, 0) + 1 for p in partitions}
        now = datetime.fromtimestamp(clock(), UTC)
        leases = [[progress.topic, p, e, name, now] for p, e in epochs.items()]
        token = f"lease/{name}/{time.time_ns()}"
        await sink.write(Batch("partition_leases", LEASE_COLUMNS, leases, token))
        progress.epochs.update(epochs)
        log.info("leased partitions %s", ", ".join(f"{p}@{e}" for p, e in epochs.items()))

    @app.page("/ready")
    async def _ready(web: Any, request: Any) -> Any:
        """Readiness (Kubernetes probe): partitions assigned and ClickHouse answering."""
        reasons = []
        if not progress.owned or not progress.assigned.is_set():
            reasons.append("no partition assigned")
        if not await sink.ping():
            reasons.append("ClickHouse does not answer")
        current = health()
        reasons += stall_reasons(current, stall_after_s)
        body = {
            "ready": not reasons,
            "partitions": sorted(progress.owned),
            "reasons": reasons,
            "lag": {str(h.partition): h.lag for h in current},
            "stalled": [h.partition for h in current if h.stalled],
        }
        return web.json(body, status=503 if reasons else 200)

    @app.page("/metrics")
    async def _metrics(web: Any, request: Any) -> Any:
        text = metrics.render(progress.topic, health())
        return web.text(text, content_type="text/plain; version=0.0.4")

    def health() -> list[PartitionHealth]:
        """Lag and idle time of every owned partition, measured now (never from the last
        flush: a worker that stopped flushing must not report its last good figures)."""
        highwaters: dict[int, int | None] = {}
        for p in progress.owned:
            try:
                highwaters[p] = app.consumer.highwater(_tp(progress.topic, p))
            except Exception:  # between assignments: the end is not known
                highwaters[p] = None
        applied = {p: pp.offset + 1 for p, pp in progress.partitions.items()}
        for p, start in progress.starts.items():
            applied.setdefault(p, start)
        return partition_health(
            applied, highwaters, progress.advanced, time.monotonic(), stall_after_s
        )

    def lookup(journey_id: str) -> dict[str, Any] | None:
        value = journeys.get(journey_id.encode())
        return value if isinstance(value, dict) else None

    def lags(flush: Flush) -> dict[int, int]:
        out: dict[int, int] = {}
        for p, st in flush.stats.items():
            try:
                high = app.consumer.highwater(_tp(progress.topic, p))
            except Exception:  # the consumer may be between assignments
                continue
            if high is not None:
                out[p] = max(0, int(high) - st.last_offset - 1)
        metrics.lag.update(out)
        return out

    async def flush_producer() -> None:
        # Faust's buffer flush gives up after 0.1 s without progress; loop until it is empty.
        producer = app.producer
        while producer.buffer.size:
            await producer.buffer.flush()
        await producer.flush()

    def sweep() -> None:
        """Forget journeys idle for the state TTL (by event time, so replays agree)."""
        if not progress.partitions:
            return
        watermark = min(p.watermark_ms for p in progress.partitions.values())
        stale = [
            k
            for k, v in list(journeys.items())
            if isinstance(v, dict) and expired(v, watermark, rules)
        ]
        for key in stale:
            del journeys[key]
        if stale:
            log.info(
                "forgot %d journeys idle for %.0f days",
                len(stale),
                rules.journey_ttl_ms / 86_400_000,
            )

    async def commit(flush: Flush) -> None:
        """Changelog and dead letters first, then the one insert of the batch."""
        await flush_producer()
        rows = finish_rows(
            flush,
            lags=lags(flush),
            worker=name,
            now_ms=int(clock() * 1000),
            epochs=progress.epochs,
        )
        started = time.monotonic()
        batch = Batch("ingest_facts", FACT_COLUMNS, rows, flush.token)
        metrics.insert_failures += await sink.write(batch)
        if time.monotonic() - started > SLOW_INSERT_S:
            # Long enough for the partitions to have moved on (a pause, a long outage): say
            # whether the views dropped this batch under a newer lease.
            await report_fenced(sorted(flush.stats))
        progress.partitions.update(flush.progress)
        done = time.monotonic()
        progress.advanced.update({p: done for p in flush.stats})
        metrics.observe(flush, done - started, clock())

    async def report_fenced(partitions: list[int]) -> None:
        rows = await sink.read(LEASE_QUERY.sql, {"topic": progress.topic})
        newest = {int(p): int(epoch) for p, epoch, *_ in rows}
        fenced = {
            p: (progress.epochs.get(p, 0), newest[p])
            for p in partitions
            if newest.get(p, 0) > progress.epochs.get(p, 0)
        }
        if fenced:
            metrics.fenced_batches += 1
            progress.stale = True
            log.warning(
                "fenced: partitions %s moved to another worker while this batch was in flight "
                "(epoch mine/newest); ClickHouse dropped their rows and the new owner applies "
                "them",
                ", ".join(f"{p} ({mine}/{new})" for p, (mine, new) in fenced.items()),
            )

    @app.agent(topics.interactions, name="ingest")
    async def ingest(stream: Any) -> None:
        nonlocal last_sweep
        # take_events acknowledges a batch when the loop asks for the next one, that is after
        # its insert: Kafka's committed offsets never pass what ClickHouse holds.
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            records = [to_source(e) for e in events]
            await progress.assigned.wait()  # the starts and leases of this assignment are known
            known = await progress.current(sink)
            gap = first_gap(records, known, progress.starts)
            if gap is not None:
                # Faust skipped records it had fetched: never count around them. Exit before
                # this batch is acknowledged; `journey worker` restarts the process, which
                # seeks to what ClickHouse holds and reads the skipped records again.
                log.critical("records %s were never delivered; restarting to reread them", gap)
                os._exit(RESTART_EXIT_CODE)
            flush = plan_flush(records, known, lookup, rules)
            for r in records:
                if r.offset <= known.get(r.partition, UNSEEN).offset:
                    metrics.skipped[r.partition] += 1
            if not flush.stats:
                continue
            for key, state in flush.journeys.items():
                journeys[key.encode()] = state
            for bad in flush.rejected:
                await topics.dead_letters.send(
                    key=str(bad.record.partition).encode(), value=dead_letter_value(bad)
                )
            await commit(flush)
            if clock() - last_sweep > SWEEP_EVERY_S:
                last_sweep = clock()
                sweep()

    return ingest


def _tp(topic: str, partition: int) -> Any:
    from faust.types import TP

    return TP(topic, partition)
