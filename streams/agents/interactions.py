"""The worker's agents: Kafka record batches in, one exact ClickHouse insert per flush out.

Two stages run the same machinery (:class:`Stage`): the **ingest** stage reads the interactions
topic and keeps journey states (``streams.logic.aggregate.plan_flush``); the **customers** stage
reads the customers topic, which the ingest stage fills with the customers' own events keyed by
pseudonym, and keeps customer states (``streams.logic.customer_flush.plan_customers``:
digital-to-call leakage, repeat contact; docs/customer-metrics.md). Each has its own leases,
progress, gap guard, state table and changelog.

Thin on purpose: every decision is a pure plan function; Faust's internals are all in
``streams.agents.faust_batches``. An agent takes the partition batches
Faust fetched (up to ``TAKE_BATCHES`` of them, or what arrived within ``BATCH_WITHIN_S``) and,
per flush of at most ``FLUSH_RECORDS`` records:

1. knows, per partition, what ClickHouse holds (``ingest_progress``, reloaded after every
   rebalance) and what it has decided since; skips the records already decided and stops the
   process if Kafka skipped any (the gap guard);
2. decides the flush, stores the states it changed (RocksDB) and sends them to the changelog
   with the dead letters (and, the ingest stage, the customers' own events to the customers
   topic), without waiting;
3. hands the flush to the committer (while a backlog lasts, with the flushes after it, up to
   ``INSERT_RECORDS`` records), which waits until the broker holds all of that, writes the
   flushes as one insert into ``ingest_facts`` (retried as the very same batch until
   ClickHouse takes it), and only then marks their batches decided and acknowledges them:
   Kafka's committed offsets never pass what ClickHouse holds.

While one flush is being inserted the next is decided (at most one insert in flight, inserts
in order). Why this is exact, and where it is not, is in docs/exactly-once.md.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import socket
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from aiokafka.errors import KafkaError

from streams.agents.faust_batches import (
    JOURNEYS_HELP,
    BatchMessage,
    batch_consumer,
    decided,
    declare_states,
    recovery_finished,
)
from streams.agents.journey_store import ChangelogTail, JourneyStates, Staged, Sweeper
from streams.app import MAX_POLL_RECORDS
from streams.clickhouse import losses, queries
from streams.errors import RESTART_EXIT_CODE, STOP_EXIT_CODE, first_line
from streams.kafka.batch_sender import BatchProducer, Delivery
from streams.logic.aggregate import (
    Flush,
    PartitionBatch,
    PartitionProgress,
    Rules,
    StateReader,
    finish_facts,
    plan_flush,
)
from streams.logic.customer_flush import plan_customers
from streams.logic.customers import Windows
from streams.logic.facts import Facts
from streams.logic.health import (
    LostOffsets,
    PartitionHealth,
    lost_offsets,
    partition_health,
    stall_reasons,
)
from streams.logic.ingest import dead_letter_value
from streams.logic.journey_state import Expiry, id_hash
from streams.logic.times import to_ms
from streams.metrics import WorkerMetrics
from streams.sinks.clickhouse import (
    Batch,
    ClickHouseSink,
    PermanentSinkError,
    facts_insert,
    joined,
)
from streams.topics import Topics

log = logging.getLogger(__name__)

CATCH_UP_FIRST_RETRY_S = 0.5  # then doubling, at most 5 s
FLUSH_RECORDS = 50_000  # at most this many records in one insert
# Fetched partition batches taken at once: at most one flush. A take that spans two flushes
# makes the second a small insert of its own, and a take larger than the stream's buffer
# (16 batches) waits for the fetcher to refill it while nothing is decided. One flush per take
# keeps the next flush deciding while the last one is inserted: 48 here ran the worker at
# 43,000-55,000 records/s, 10 at 65,000-88,000, on the same topic (2026-12-06).
TAKE_BATCHES = FLUSH_RECORDS // MAX_POLL_RECORDS
# A take that has not filled waits at most this long: at a live rate a fetch comes every
# FETCH_MAX_WAIT_MS (faust_batches) with a batch of each partition, and is decided at once
# instead of waiting for the next fetch (a second with 1.0 here: freshness is fetch wait +
# this + deciding + the insert).
BATCH_WITHIN_S = 0.1
# What an insert costs ClickHouse hardly depends on its size: each of its ~40 views writes a
# part, and every part is merged again later. Draining the bench's topic, 9 inserts of
# ~36,000 records took 29 us of ClickHouse CPU a record, 5 of ~65,000 took 14 (2026-12-08).
# So while a backlog lasts (a take came back full), a decided flush is held and goes out in
# one insert with the flushes after it, once they reach INSERT_RECORDS records; deciding stays
# at FLUSH_RECORDS a flush (the worker's peak memory is the flush being decided; a held one
# keeps only its encoded insert). A flush decided from a take that was not full goes out at
# once with those held (live traffic is not delayed), and so do held flushes when no take
# comes within HOLD_S (the backlog ended).
INSERT_RECORDS = 60_000
HOLD_S = 0.2
SLOW_INSERT_S = 5.0  # half the session timeout
PROGRESS_QUERY = queries.load("partition_progress")
LEASE_QUERY = queries.load("partition_leases")
LEASE_COLUMNS = ("kafka_topic", "kafka_partition", "epoch", "worker", "leased_at")
LEASE_TYPES = ("String", "UInt16", "UInt64", "String", "DateTime64(3, 'UTC')")
LOSS_COLUMNS = (
    "kafka_topic", "kafka_partition", "first_offset", "last_offset", "lost", "after_watermark",
    "detected_at", "worker", "updated_at",
)  # fmt: skip
MS = LEASE_TYPES[4]  # a time in UTC milliseconds
LOSS_TYPES = ("String", "UInt16", "UInt64", "UInt64", "UInt64", MS, MS, "String", MS)
UNSEEN = PartitionProgress()


@dataclass
class HeldFlush:
    """A flush decided and staged (its states stored and sent to the changelog), waiting for
    its insert: only what the committer needs."""

    flush: Flush  # without its facts, states, rejections and forwarded events
    batch: Batch  # the encoded insert
    events: list[Any]  # the taken events it decided, acknowledged once it is inserted
    staged: Staged

    @property
    def records(self) -> int:
        return sum(st.records for st in self.flush.stats.values())


try:
    _LIBC: Any = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc: nothing to trim
    _LIBC = None


def release_freed_memory() -> None:
    """Give the pages the last flush freed back to the system (glibc's ``malloc_trim``): a
    flush allocates and frees hundreds of megabytes of small objects, and the holes they leave
    would otherwise stay resident and add up."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def worker_name() -> str:
    """``host:pid``, written with every flush so pipeline_health says who did what."""
    return f"{socket.gethostname()}:{os.getpid()}"


def stop_worker(reason: str, code: int = STOP_EXIT_CODE) -> None:
    """End the process now, nothing acknowledged: ``journey worker`` restarts it for code
    ``RESTART_EXIT_CODE`` and passes any other code on (an operator must look)."""
    log.critical(reason)
    logging.shutdown()
    os._exit(code)


@dataclass
class Progress:
    """Per partition: what ClickHouse holds (``confirmed``), what this worker has decided
    since (``decided``, ahead while an insert is in flight), where each assigned partition was
    sought to, this worker's leases."""

    topic: str
    confirmed: dict[int, PartitionProgress] = field(default_factory=dict)
    decided: dict[int, PartitionProgress] = field(default_factory=dict)
    starts: dict[int, int] = field(default_factory=dict)
    epochs: dict[int, int] = field(default_factory=dict)
    stale: bool = True
    owned: set[int] = field(default_factory=set)
    # When each owned partition last reached ClickHouse (or was assigned), monotonic.
    advanced: dict[int, float] = field(default_factory=dict)
    # Counts revocations and assignments: a flush decided across one is decided again, on
    # the new basis (see decide()).
    generation: int = 0
    # The generation in which this worker found another's lease newer than its own on an
    # owned partition (see refresh()): it decides nothing until the next one.
    fenced: int | None = None
    # Set once the assignment hook has taken the leases and recorded where each partition
    # starts. Faust sends its assignment signal after it has started table recovery, so
    # batches can reach the agent before the hook is done: the agent waits for it.
    assigned: asyncio.Event = field(default_factory=asyncio.Event)

    async def reload(self, sink: ClickHouseSink) -> None:
        """Read what ClickHouse holds; nothing decided is pending beyond it."""
        self.confirmed = await held_progress(sink, self.topic)
        self.decided = {
            p: PartitionProgress(pp.offset, pp.watermark_ms) for p, pp in self.confirmed.items()
        }
        self.stale = False


def first_gap(
    batches: Sequence[PartitionBatch],
    decided: dict[int, PartitionProgress],
    starts: dict[int, int],
) -> str | None:
    """``partition:first-last`` of offsets missing between what is decided (or where the
    partition was sought on assignment, if that is later: the log start, when retention
    deleted records no worker applied) and the first new record of that partition, or None.
    Offsets of a partition are consecutive (no transactional producer writes to the
    interactions topic)."""
    expected = dict(starts)
    for p, pp in decided.items():
        expected[p] = max(expected.get(p, 0), pp.offset + 1)
    for batch in batches:
        p = batch.partition
        first = batch.offsets[0]
        want = expected.get(p, first)
        if first > want:
            return f"{p}:{want}-{first - 1}"
        expected[p] = max(want, batch.offsets[-1] + 1)
    return None


def flushes_of(events: Sequence[Any], limit: int = FLUSH_RECORDS) -> list[list[Any]]:
    """Taken events cut into flushes of at most ``limit`` records (a batch is never split)."""
    out: list[list[Any]] = [[]]
    size = 0
    for event in events:
        n = len(event.message.offsets)
        if out[-1] and size + n > limit:
            out.append([])
            size = 0
        out[-1].append(event)
        size += n
    return out if out[0] else []


Plan = Callable[[list[PartitionBatch], dict[int, PartitionProgress], StateReader], Flush]


@dataclass(frozen=True)
class Stage:
    """What one stage consumes, keeps and decides; the machinery around it is the same."""

    agent: str  # the Faust agent's name
    source: Any  # the Faust topic it consumes
    table: str  # its state table (RocksDB store, changelog topic)
    help: str  # the table's description
    plan: Plan  # decides a flush: pure, given the store to read states from
    ttl_ms: int  # a state idle this long (event time) is forgotten
    forward: Any = None  # the topic the stage hands Flush.forward on to (the ingest stage's)
    prefix: str = "journey"  # of its /metrics families


@dataclass
class Running:
    """A registered stage, for the worker's web pages."""

    stage: Stage
    agent: Any
    progress: Progress
    metrics: WorkerMetrics
    health: Callable[[], list[PartitionHealth]]
    memory: Callable[[], dict[str, int] | None]


def register(
    app: Any,
    topics: Topics,
    sink: ClickHouseSink,
    rules: Rules,
    producer: BatchProducer,
    metrics: WorkerMetrics | None = None,
    clock: Callable[[], float] = time.time,
    stall_after_s: float = 60.0,
    *,
    tail: ChangelogTail,
    windows: Windows | None = None,
    customer_metrics: WorkerMetrics | None = None,
    run: Collection[str] = ("ingest", "customers"),
) -> Any:
    """Attach the ingest agent, and with ``windows`` the customers stage, with their tables
    and the worker's web pages, to ``app``; return the first agent. ``run`` picks the stages
    this process runs (the ingest stage hands the customers' events on whenever ``windows``
    is given, whichever process consumes them). ``tail`` reads a changelog beyond what
    recovery applied (after a lease)."""
    second = windows is not None
    ingest_rules = replace(rules, forward_customers=second)
    stages = [
        Stage(
            "ingest",
            topics.interactions,
            "journeys",
            JOURNEYS_HELP,
            lambda batches, progress, store: plan_flush(batches, progress, store, ingest_rules),
            rules.journey_ttl_ms,
            forward=topics.customers if second else None,
        )
    ]
    if windows is not None:
        stages.append(
            Stage(
                "customers",
                topics.customers,
                "customers",
                "Customer state: digital touches and contacts within the windows, event ids.",
                lambda batches, progress, store: plan_customers(batches, progress, store, windows),
                rules.journey_ttl_ms,
                prefix="journey_customers",
            )
        )
    chosen = [stage for stage in stages if stage.agent in run]
    if not chosen:
        raise ValueError(f"no stage to run: {sorted(run)} among {[s.agent for s in stages]}")
    runs = [
        _register_stage(
            app,
            stage,
            topics,
            sink,
            producer,
            (metrics if stage.agent == "ingest" else customer_metrics) or WorkerMetrics(),
            clock,
            stall_after_s,
            tail,
        )
        for stage in chosen
    ]
    _register_pages(app, runs, sink, stall_after_s)
    return runs[0].agent


def _register_pages(
    app: Any, runs: list[Running], sink: ClickHouseSink, stall_after_s: float
) -> None:
    """``/ready`` and ``/metrics``, over every stage."""
    first = runs[0]

    @app.page("/ready")
    async def _ready(web: Any, request: Any) -> Any:
        """Readiness (Kubernetes probe): partitions assigned and ClickHouse answering."""
        reasons = []
        if not first.progress.owned or not first.progress.assigned.is_set():
            reasons.append("no partition assigned")
        if not await sink.ping():
            reasons.append("ClickHouse does not answer")
        health = {run.stage.agent: run.health() for run in runs}
        for run in runs:
            label = "" if run is first else f"{run.stage.agent} stage: "
            reasons += [label + r for r in stall_reasons(health[run.stage.agent], stall_after_s)]
        current = health[first.stage.agent]
        body = {
            "ready": not reasons,
            "partitions": sorted(first.progress.owned),
            "reasons": reasons,
            "lag": {str(h.partition): h.lag for h in current},
            "stalled": [h.partition for h in current if h.stalled],
            "stages": {
                run.stage.agent: {
                    "partitions": sorted(run.progress.owned),
                    "lag": {str(h.partition): h.lag for h in health[run.stage.agent]},
                }
                for run in runs
            },
        }
        return web.json(body, status=503 if reasons else 200)

    @app.page("/metrics")
    async def _metrics(web: Any, request: Any) -> Any:
        text = "".join(
            run.metrics.render(run.progress.topic, run.health(), run.memory(), run.stage.prefix)
            for run in runs
        )
        return web.text(text, content_type="text/plain; version=0.0.4")


def _register_stage(
    app: Any,
    stage: Stage,
    topics: Topics,
    sink: ClickHouseSink,
    producer: BatchProducer,
    metrics: WorkerMetrics,
    clock: Callable[[], float],
    stall_after_s: float,
    tail: ChangelogTail,
) -> Running:
    """One stage's agent, state table and assignment hook."""
    topic = stage.source.get_topic_name()
    dead_topic = topics.dead_letters.get_topic_name()
    dead_partitions = topics.dead_letters.partitions or 1
    progress = Progress(topic)
    table = declare_states(app, stage.table, stage.source.partitions or 1, stage.help)
    name = worker_name()
    sweeper = Sweeper(Expiry(stage.ttl_ms))
    pipeline: dict[str, asyncio.Task[None] | None] = {"insert": None}
    held: list[HeldFlush] = []  # decided, in order, to go out in the next insert (send_held())
    sending = asyncio.Lock()  # one send_held() at a time: inserts leave in decided order
    hold_timer: list[asyncio.TimerHandle] = []
    # Always the same thread: a flush's hundreds of megabytes are allocated and freed in one
    # malloc arena, not spread over the arenas of the default executor's threads.
    planner = ThreadPoolExecutor(1, thread_name_prefix="plan")
    journeys: list[JourneyStates] = []

    def states() -> JourneyStates:
        if not journeys:  # the changelog topic's name is known once the table is finalized
            journeys.append(JourneyStates(table.store, producer, table.changelog_topic_name, tail))
        return journeys[0]

    @app.on_partitions_revoked.connect
    async def _revoked(_sender: Any, revoked: Any = (), **__: Any) -> None:
        """Forget the revoked partitions at once: the next flush waits for the next
        assignment's hook and refreshes first. Faust sends this once every record taken was
        acknowledged (``stream_wait_empty``), so no flush is being decided then; a worker
        woken from a pause past its session timeout may have finished one on a stale basis
        before it, which is what refresh()'s lease check is for."""
        progress.assigned.clear()
        progress.generation += 1
        progress.stale = True
        progress.owned -= {tp.partition for tp in revoked if tp.topic == topic}

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
        progress.generation += 1
        try:
            await on_assignment([tp for tp in assigned if tp.topic == topic])
        finally:
            progress.assigned.set()

    async def on_assignment(mine: list[Any]) -> None:
        await settle()  # what was decided before is in ClickHouse before it is read
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
        await progress.reload(sink)
        earliest = await app.consumer.earliest_offsets(*mine)
        # Per partition: the next offset ClickHouse does not hold, and the log start.
        resume = {tp.partition: progress.confirmed.get(tp.partition, UNSEEN).offset + 1
                  for tp in mine}  # fmt: skip
        log_start = {tp.partition: int(earliest.get(tp) or 0) for tp in mine}
        offsets = {tp: max(resume[tp.partition], log_start[tp.partition]) for tp in mine}
        progress.starts.update({tp.partition: offset for tp, offset in offsets.items()})
        lost = lost_offsets(resume, log_start)
        if lost:
            await record_losses(lost)
        await read_losses()
        await batch_consumer(app).commit_offsets(offsets)
        progress.stale = True  # reread after the seek, in the agent

    async def take_leases(partitions: list[int]) -> None:
        rows = await sink.read(LEASE_QUERY.sql, {"topic": topic})
        newest = {int(p): int(epoch) for p, epoch, *_ in rows}
        epochs = {p: newest.get(p, 0) + 1 for p in partitions}
        now = int(clock() * 1000)
        columns = [
            [topic] * len(epochs),
            list(epochs),
            list(epochs.values()),
            [name] * len(epochs),
            [now] * len(epochs),
        ]
        token = f"lease/{name}/{time.time_ns()}"
        await sink.write(Batch("partition_leases", LEASE_COLUMNS, columns, token, LEASE_TYPES))
        progress.epochs.update(epochs)
        log.info("leased partitions %s", ", ".join(f"{p}@{e}" for p, e in epochs.items()))

    async def record_losses(found: list[LostOffsets]) -> None:
        """Say, in ClickHouse and the log, which records the topic deleted before any worker
        applied them: the worker resumes after them (nothing else can be done), loudly."""
        now = int(clock() * 1000)
        columns: list[list[Any]] = [[] for _ in LOSS_COLUMNS]
        for loss in found:
            watermark = progress.confirmed.get(loss.partition, UNSEEN).watermark_ms
            row = (topic, loss.partition, loss.first, loss.last, loss.count, max(0, watermark),
                   now, name, now)  # fmt: skip
            for column, value in zip(columns, row, strict=True):
                column.append(value)
            log.error(
                "records lost: partition %d offsets %d-%d (%d records) were deleted from the "
                "topic before any worker applied them (retention shorter than the worker was "
                "stopped, or delete-records); resuming at offset %d",
                loss.partition, loss.first, loss.last, loss.count, loss.last + 1,
            )  # fmt: skip
        gaps = ",".join(f"{x.partition}:{x.first}-{x.last}" for x in found)
        token = f"loss/{topic}/{gaps}"
        await sink.write(Batch("ingest_losses", LOSS_COLUMNS, columns, token, LOSS_TYPES))

    async def read_losses() -> None:
        """The unacknowledged losses of the owned partitions, for /metrics."""
        found = losses.pending(await sink.read(losses.LOSSES.sql))
        metrics.lost = {p: n for (t, p), n in found.items() if t == topic and p in progress.owned}

    def health() -> list[PartitionHealth]:
        """Lag and idle time of every owned partition, measured now (never from the last
        flush: a worker that stopped flushing must not report its last good figures)."""
        highwaters: dict[int, int | None] = {}
        for p in progress.owned:
            try:
                highwaters[p] = app.consumer.highwater(_tp(topic, p))
            except Exception:  # between assignments: the end is not known
                highwaters[p] = None
        applied = {p: pp.offset + 1 for p, pp in progress.confirmed.items()}
        for p, start in progress.starts.items():
            applied.setdefault(p, start)
        return partition_health(
            applied, highwaters, progress.advanced, time.monotonic(), stall_after_s
        )

    async def send_dead_letters(flush: Flush) -> list[Delivery]:
        by_partition: dict[int, list[tuple[bytes, bytes | None]]] = {}
        for bad in flush.rejected:
            p = bad.record.partition
            by_partition.setdefault(p % dead_partitions, []).append(
                (str(p).encode(), dead_letter_value(bad))
            )
        deliveries: list[Delivery] = []
        for p, records in by_partition.items():
            deliveries += await producer.send(dead_topic, p, records)
        return deliveries

    async def send_forward(flush: Flush) -> list[Delivery]:
        """The customers' own new events, to the customers topic, keyed by pseudonym: each
        customer's events on one partition (a stable hash), whatever worker sends them."""
        if stage.forward is None or not flush.forward:
            return []
        target = stage.forward.get_topic_name()
        partitions = stage.forward.partitions or 1
        by_partition: dict[int, list[tuple[bytes, bytes | None]]] = {}
        for customer, value in flush.forward:
            key = customer.encode()
            by_partition.setdefault(id_hash(key) % partitions, []).append((key, value))
        deliveries: list[Delivery] = []
        for p, records in sorted(by_partition.items()):
            deliveries += await producer.send(target, p, records)
        return deliveries

    async def commit(parts: list[HeldFlush]) -> None:
        """Each flush's changelog and dead letters held by the broker, then the one insert of
        them all, then the acknowledgements."""
        for part in parts:
            await states().confirm(part.staged)
        flushes = [part.flush for part in parts]
        batch = joined([part.batch for part in parts])
        started = time.monotonic()
        metrics.insert_failures += await sink.write(batch, landed=lambda: holds(flushes))
        partitions = sorted({p for flush in flushes for p in flush.stats})
        if time.monotonic() - started > SLOW_INSERT_S:
            # Long enough for the partitions to have moved on (a pause, a long outage): say
            # whether the views dropped this batch under a newer lease.
            await report_fenced(partitions)
        for flush in flushes:
            progress.confirmed.update(flush.progress)
        done = time.monotonic()
        progress.advanced.update({p: done for p in partitions})
        metrics.observe(flushes, batch.size, done - started, clock())
        acknowledge([event for part in parts for event in part.events])

    async def holds(flushes: list[Flush]) -> bool:
        """Whether ClickHouse holds the flushes: their progress is in the same insert as their
        facts, so an insert that ran to the end (its answer lost) left every partition of
        them at or past the last flush's last offset."""
        ends: dict[int, PartitionProgress] = {}
        for flush in flushes:
            ends.update(flush.progress)
        found = await held_progress(sink, topic)
        return all(p in found and found[p].offset >= pp.offset for p, pp in ends.items())

    def prepare(
        batches: list[PartitionBatch],
        decided: dict[int, PartitionProgress],
        ends: dict[int, int],
        epochs: dict[int, int],
    ) -> tuple[Flush, Batch]:
        """Decide a flush and encode its insert under ``epochs``, the leases it was decided
        under (run in a thread: pure, but for the store's reads)."""
        release_freed_memory()
        flush = stage.plan(batches, decided, states())
        lags = {
            p: max(0, ends[p] - st.last_offset - 1) for p, st in flush.stats.items() if p in ends
        }
        metrics.lag.update(lags)
        facts = finish_facts(
            flush, lags=lags, worker=name, now_ms=int(clock() * 1000), epochs=epochs
        )
        return flush, facts_insert(facts, flush.token)

    def ends() -> dict[int, int]:
        """Each owned partition's end, as the consumer last saw it."""
        out: dict[int, int] = {}
        for p in progress.owned:
            try:
                high = app.consumer.highwater(_tp(topic, p))
            except Exception:  # the consumer may be between assignments
                continue
            if high is not None:
                out[p] = int(high)
        return out

    def acknowledge(events: list[Any]) -> None:
        for event in events:
            decided(event.message)
        release(events)

    def release(events: list[Any]) -> None:
        """Done with, but not decided: Kafka's committed offset does not move past them."""
        for event in events:
            event.ack()

    async def leased_away(partitions: Collection[int]) -> dict[int, tuple[int, int]]:
        """Of ``partitions``, those another worker has leased since this one did, with (this
        worker's epoch, the newest)."""
        rows = await sink.read(LEASE_QUERY.sql, {"topic": topic})
        newest = {int(p): int(epoch) for p, epoch, *_ in rows}
        return {
            p: (progress.epochs.get(p, 0), newest[p])
            for p in sorted(partitions)
            if newest.get(p, 0) > progress.epochs.get(p, 0)
        }

    async def report_fenced(partitions: list[int]) -> None:
        fenced = await leased_away(partitions)
        if fenced:
            metrics.fenced_batches += 1
            progress.stale = True
            log.warning(
                "fenced: partitions %s moved to another worker while this batch was in flight "
                "(epoch mine/newest); ClickHouse dropped their rows and the new owner applies "
                "them",
                ", ".join(f"{p} ({mine}/{new})" for p, (mine, new) in fenced.items()),
            )

    async def settle() -> None:
        """Insert the held flushes, and wait for the insert in flight, if any."""
        await send_held()
        await inserted()

    async def inserted() -> None:
        """Wait for the insert in flight, if any."""
        task = pipeline["insert"]
        if task is not None:
            pipeline["insert"] = None
            await task

    async def send_held() -> None:
        """The held flushes, as one insert after the one in flight (at most one in flight,
        inserts in the order their flushes were decided)."""
        unhold()
        async with sending:
            if not held:
                return
            parts = held.copy()
            held.clear()
            await inserted()
            task = asyncio.ensure_future(commit(parts))
            task.add_done_callback(failed)
            pipeline["insert"] = task

    def hold() -> None:
        """Send the held flushes unless a take comes within HOLD_S (decide() cancels it)."""
        if held and not hold_timer:
            later = asyncio.get_running_loop().call_later(
                HOLD_S, lambda: asyncio.ensure_future(send_held()).add_done_callback(failed)
            )
            hold_timer.append(later)

    def unhold() -> None:
        """Cancel hold()'s timer: the held flushes are being sent, or the next flush is here."""
        for timer in hold_timer:
            timer.cancel()
        hold_timer.clear()

    def failed(task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, PermanentSinkError):
            stop_worker(f"stopping: {exc}")
        elif isinstance(exc, KafkaError):
            # The broker did not take the flush's changelog or dead letters (a broker that is
            # restarting answers LeaderNotAvailable until it leads its partitions again). They
            # are awaited before the insert, so nothing of the flush reached ClickHouse and
            # nothing is acknowledged: a fresh process resumes exactly from what ClickHouse
            # holds, as after a SIGKILL before an insert. Waiting in this process instead would
            # need the changelog batch resent in order with the ones after it.
            stop_worker(
                f"restarting: the broker did not take a flush's changelog or dead letters "
                f"({type(exc).__name__}: {exc})",
                RESTART_EXIT_CODE,
            )
        elif exc is not None:
            log.error("a flush failed", exc_info=exc)
            stop_worker(f"stopping: a flush failed ({type(exc).__name__}: {exc})")

    async def decide(events: list[Any], more: bool = False) -> None:
        """Decide one flush and hand it to the committer; with ``more`` (a backlog: more
        records are already fetched) it may be held, to be inserted with the next
        (``INSERT_RECORDS``).

        On the current assignment's basis only: what ClickHouse held after this worker's
        lease, the store caught up with the changelog, the leases (refresh()). Faust's
        revocation waits until every record taken is acknowledged, so a rebalance comes
        between flushes, and the hooks make the next flush wait for the assignment and
        refresh first. Should the basis change all the same while a flush is planned (the
        plan runs in a thread; an insert found fenced meanwhile), the flush is decided again
        from the top. A flush carries the leases it was decided under: one decided before a
        rebalance and sent after it is dropped by the fence."""
        unhold()  # the next flush is here: what is held waits for it
        try:
            await _decide(events, more)
        finally:
            hold()  # whatever is still held goes out if no take follows

    async def _decide(events: list[Any], more: bool) -> None:
        acknowledged: set[int] = set()
        while True:
            await progress.assigned.wait()  # the starts and leases of this assignment
            if progress.fenced == progress.generation:
                # Fenced (see refresh()): let the records go, unapplied and uncommitted, until
                # the rebalance reaches this worker (whoever owns their partitions reads them
                # again from what ClickHouse holds). Never hold them: the rebalance waits
                # until every record taken is acknowledged.
                release([e for e in events if id(e) not in acknowledged])
                return
            if progress.stale:
                await refresh()
                continue  # the basis is checked again: a rebalance may have come meanwhile
            generation = progress.generation
            mine = [e for e in events if e.message.partition in progress.owned]
            gone = [
                e
                for e in events
                if e.message.partition not in progress.owned and id(e) not in acknowledged
            ]
            if gone:  # batches of partitions this worker no longer owns
                acknowledge(gone)
                acknowledged.update(id(e) for e in gone)
            batches = [
                PartitionBatch(topic, m.partition, m.offsets, m.timestamps, m.values)
                for m in (e.message for e in mine)
            ]
            gap = first_gap(batches, progress.decided, progress.starts)
            if gap is not None:
                # Faust skipped records it had fetched: never count around them. Exit before
                # this batch is acknowledged; `journey worker` restarts the process, which
                # seeks to what ClickHouse holds and reads the skipped records again.
                await settle()
                stop_worker(f"records {gap} were never delivered; restarting to reread them",
                            RESTART_EXIT_CODE)  # fmt: skip
            # In a thread: the event loop stays free to receive the broker's acknowledgements
            # and to start the previous flush's insert, which ClickHouse works on meanwhile.
            flush, batch = await asyncio.get_running_loop().run_in_executor(
                planner, prepare, batches, progress.decided, ends(), dict(progress.epochs)
            )
            if progress.generation == generation and not progress.stale:
                break
            log.info("the partitions' basis changed while a flush was decided: deciding it again")
        for b in batches:
            skipped = sum(
                1 for o in b.offsets if o <= progress.decided.get(b.partition, UNSEEN).offset
            )
            if skipped:
                metrics.skipped[b.partition] += skipped
        if not flush.stats:
            acknowledge(mine)
            return
        progress.decided.update(flush.progress)
        staged = await states().stage(flush.states)
        staged.deliveries += await send_dead_letters(flush)
        staged.deliveries += await send_forward(flush)
        staged.deliveries += await sweeper.step(
            states(), {p: pp.watermark_ms for p, pp in progress.confirmed.items()
                       if p in progress.owned}
        )  # fmt: skip
        # Held until the insert lands: only what the committer needs. The decoded records,
        # the facts (encoded in ``batch`` now), the states (stored) and the fetched bytes are
        # let go, so two flushes in flight do not both hold everything they were made from.
        flush = replace(flush, facts=Facts(), states={}, rejected=[], forward=[])
        for event in mine:
            event.message.values = []
        held.append(HeldFlush(flush, batch, mine, staged))
        # A backlog: the take filled, or the broker holds at least a fetch's worth beyond
        # what is decided (a take also ends unfilled when the fetcher is behind).
        waiting = sum(
            max(0, end - progress.decided.get(p, UNSEEN).offset - 1) for p, end in ends().items()
        )
        backlog = more or waiting >= MAX_POLL_RECORDS
        if not backlog or sum(part.records for part in held) >= INSERT_RECORDS:
            await send_held()

    async def refresh() -> None:
        """After an assignment (or a fenced insert): what ClickHouse holds, and the store
        caught up with it, unless another worker has leased an owned partition since this
        worker did.

        Then the changelog may hold that worker's states, newer than the progress read here:
        a flush decided on both would roll its states back to this progress (``as_of``) and
        write them over the newer ones, in the store and the changelog (a worker stopped
        between the two reads and woken after the other took over did, in the zombie chaos
        scenario, and counted the other's pairs wrong ever after). Then the worker is fenced
        until the rebalance that must follow reaches it (``Progress.fenced``)."""
        generation = progress.generation
        await settle()
        await progress.reload(sink)
        # After the lease (taken on assignment): the states behind what ClickHouse holds are
        # all on the changelog now; recovery may have stopped short of them.
        await recovery_finished(app)
        await catch_up()
        moved = await leased_away(progress.owned)
        if progress.generation != generation or moved:
            progress.stale = True
        if moved and progress.generation == generation:
            log.warning(
                "fenced: partitions %s were leased to another worker since this one leased "
                "them; deciding nothing until the rebalance reaches this worker",
                ", ".join(map(str, moved)),
            )
            progress.fenced = progress.generation

    async def catch_up() -> None:
        """The owned partitions' changelog tail into the store (``JourneyStates.catch_up``),
        retried until the broker answers: no flush is decided without it."""
        delay = CATCH_UP_FIRST_RETRY_S
        while True:
            try:
                read = await states().catch_up(sorted(progress.owned))
            except (KafkaError, OSError, TimeoutError) as exc:
                log.warning("reading the %s changelog failed (%s); retrying in %.1f s",
                            stage.table, first_line(exc), delay)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if read:
                log.info("caught up %d %s entries recovery had not read", read, stage.table)
            return

    @app.agent(stage.source, name=stage.agent)
    async def ingest(stream: Any) -> None:
        # Everything made before the first batch (Faust, the app) lives as long as the
        # process: out of the collector's way. A flush allocates hundreds of thousands of
        # short-lived objects without a cycle among them: collect young objects rarely.
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        # Batches are acknowledged by the committer after their insert (see decided()).
        async for events in stream.noack_take(TAKE_BATCHES, within=BATCH_WITHIN_S):
            backlog = len(events) >= TAKE_BATCHES  # the buffer filled: more is fetched
            chunks = flushes_of([e for e in events if isinstance(e.message, BatchMessage)])
            for n, chunk in enumerate(chunks, 1):
                await decide(chunk, more=backlog or n < len(chunks))

    def memory() -> dict[str, int] | None:
        return journeys[0].store.memory() if journeys else None  # once a flush opened it

    return Running(stage, ingest, progress, metrics, health, memory)


async def held_progress(sink: ClickHouseSink, topic: str) -> dict[int, PartitionProgress]:
    """What ClickHouse holds of ``topic``, per partition: the last applied offset and the
    watermark after it."""
    rows = await sink.read(PROGRESS_QUERY.sql, {"topic": topic})
    return {
        int(p): PartitionProgress(int(offset), to_ms(watermark))
        for p, offset, watermark, _flushed in rows
    }


def _tp(topic: str, partition: int) -> Any:
    from faust.types import TP

    return TP(topic, partition)
