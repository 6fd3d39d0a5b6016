"""The ingest agent, driven through Faust's ``test_context`` (no broker, no ClickHouse)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest

from streams.agents import interactions
from streams.agents.faust_batches import BatchMessage, declare_journeys
from streams.clickhouse import losses
from streams.logic.aggregate import PartitionBatch, PartitionProgress, Rules
from streams.logic.customers import Windows
from streams.logic.facts import FACT_COLUMNS
from streams.logic.journey_state import First, JourneyState, decode, encode, id_hash
from streams.metrics import WorkerMetrics
from streams.sinks.clickhouse import Batch, Landed, facts_batch
from streams.topics import Topics
from tests.support import MemoryProducer, MemoryTail

CUSTOMER = "ph:k1:" + "cd" * 16


class MemorySink:
    """Records batches; answers the progress query with ``progress`` (partition, last offset
    applied, watermark, flushed at) and the lease query with nothing."""

    def __init__(self, progress: list[tuple[int, int, datetime, datetime]] | None = None) -> None:
        self.batches: list[Batch] = []
        self.progress = progress or []

    async def read(self, sql: str, parameters: dict[str, Any] | None = None) -> list[Any]:
        if sql == losses.LOSSES.sql:  # every topic's: no parameter
            return []
        assert parameters is not None and "topic" in parameters  # bound, not formatted
        return self.progress if sql == interactions.PROGRESS_QUERY.sql else []

    async def write(self, batch: Batch, landed: Landed | None = None) -> int:
        self.batches.append(batch)
        return 0

    async def ping(self, timeout: float = 2.0) -> bool:
        return True


def event(n: int, journey: str = "j1", **fields: Any) -> bytes:
    return json.dumps(
        {
            "event_id": f"e{n}",
            "schema_version": 1,
            "kind": "touch",
            "occurred_at": "2021-06-01T08:00:00Z",
            "tenant": "acme",
            "industry": "telecom",
            "use_case": "digital_customer_service",
            "channel": "web",
            "journey_id": journey,
            "customer_id": CUSTOMER,
            "direction": "inbound",
        }
        | fields
    ).encode()


def make_app(tmp_path: Path) -> faust.App:
    app = faust.App(
        "test-ingest",
        broker="journey://127.0.0.1:1",
        store="rocksdb://",
        datadir=str(tmp_path),
        autodiscover=False,
    )
    app.finalize()
    return app


def records(*values: bytes, start: int = 0) -> list[Any]:
    """What aiokafka hands Faust: one record object per value."""
    return [
        SimpleNamespace(offset=start + i, timestamp=1_700_000_000_000, timestamp_type=0, value=v)
        for i, v in enumerate(values)
    ]


@dataclass
class Drive:
    """What one run of the agent over one batch left behind."""

    sink: MemorySink
    producer: MemoryProducer
    metrics: WorkerMetrics
    committed: list[Any]
    sent: list[BatchMessage]


def drive_agent(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    values: list[bytes],
    tail: MemoryTail,
    sink: MemorySink | None = None,
    start: int = 0,
    windows: Windows | None = None,
    then: Sequence[list[bytes]] = (),
    native: bool = False,
) -> Drive:
    """Assign partition 0 of ``t.in``, deliver ``values`` (from offset ``start``) as one
    batch, and each of ``then`` as the next batches, wait for their inserts. With ``native``
    the inserts are encoded as the worker sends them (else as readable columns)."""
    app = make_app(tmp_path)
    raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    topics = Topics(
        app.topic("t.in", **raw), app.topic("t.dead", **raw), app.topic("t.cust", **raw)
    )
    sink = sink or MemorySink()
    producer = MemoryProducer()
    metrics = WorkerMetrics()
    agent = interactions.register(
        app,
        topics,
        sink,  # type: ignore[arg-type]
        Rules(),
        producer,  # type: ignore[arg-type]
        metrics,
        tail=tail,
        windows=windows,
    )

    async def earliest(*tps: Any) -> dict[Any, int]:
        return {tp: 0 for tp in tps}

    committed: list[Any] = []

    async def commit(offsets: Any) -> bool:
        committed.append(offsets)
        return True

    monkeypatch.setattr(app.consumer, "earliest_offsets", earliest)
    monkeypatch.setattr(app.consumer, "_commit", commit)
    # Keep the insert's columns readable (its Native encoding: tests/unit/sinks/test_native.py,
    # and against ClickHouse by the integration tests).
    if not native:
        monkeypatch.setattr(
            interactions, "facts_insert", lambda facts, token: facts_batch(facts.columns(), token)
        )

    sent: list[BatchMessage] = []

    async def drive() -> None:
        from faust.types import TP

        async with agent.test_context() as ctx:
            # The agent waits for the assignment hook: leases taken, starts recorded.
            await app.on_partitions_assigned.send(assigned={TP("t.in", 0)})
            channel = ctx.stream().channel
            offset = start
            for each in [values, *then]:
                batch = records(*each, start=offset)
                offset += len(each)
                message = BatchMessage(TP("t.in", 0), batch, app.consumer_generation_id)
                sent.append(message)
                await channel.put(await channel.decode(message))
            for _ in range(100):
                if len(sink.batches) > 1 and all(m.acked for m in sent):
                    break
                await asyncio.sleep(0.05)

    asyncio.run(drive())
    return Drive(sink, producer, metrics, committed, sent)


def test_agent_writes_one_batch_of_facts_with_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [event(1), event(1), b"not json", event(2, channel="email")]
    run = drive_agent(tmp_path, monkeypatch, values, MemoryTail())
    sink, producer, metrics, committed, sent = (
        run.sink, run.producer, run.metrics, run.committed, run.sent
    )  # fmt: skip
    leases, *facts = sink.batches
    assert facts, "the agent wrote nothing"
    assert leases.table == "partition_leases"
    assert [list(c) for c in leases.data[1:3]] == [[0], [1]]  # partition 0, epoch 1
    assert list(committed[0].values()) == [0]  # ClickHouse holds nothing: start at the log start
    (insert,) = facts
    assert insert.table == "ingest_facts" and tuple(insert.columns) == FACT_COLUMNS
    kinds = list(insert.data[FACT_COLUMNS.index("fact")])
    assert kinds.count("interaction") == 2  # e1 counted once
    assert kinds.count("dead_letter") == 1
    assert kinds.count("progress") == 1
    assert set(insert.data[FACT_COLUMNS.index("epoch")]) == {1}  # every row: the lease epoch
    assert metrics.duplicates[0] == 1
    changelog = [(t, p, r) for t, p, r in producer.sent if t.endswith("-journeys-changelog")]
    dead = [r for t, _, r in producer.sent if t == "t.dead"]
    assert [[k for k, _ in r] for _, _, r in changelog] == [[b"j1"]]  # one write per journey
    state = decode(changelog[0][2][0][1])
    assert len(state.events) == 2 and set(state.channels) == {"web", "email"}
    assert json.loads(dead[0][0][1] or b"")["reason"].startswith("is not JSON")
    assert 'journey_dead_letters_total{code="event:is not JSON"} 1' in metrics.render("t.in")
    assert sent[0].acked and sent[0].is_decided


def test_during_a_backlog_flushes_are_held_and_inserted_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A take that fills (here: 2 batches) means a backlog: each flush is decided on its own
    # (one per batch here), held, and the flushes go out as one insert, their batches
    # acknowledged after it.
    monkeypatch.setattr(interactions, "TAKE_BATCHES", 2)
    monkeypatch.setattr(interactions, "flushes_of", lambda events: [[e] for e in events])
    first, second = [event(1), event(2)], [event(3, journey="j2"), b"not json"]
    run = drive_agent(tmp_path, monkeypatch, first, MemoryTail(), then=[second], native=True)
    leases, *facts = run.sink.batches
    (insert,) = facts
    assert leases.table == "partition_leases"
    # 3 events, 2 journeys, 1 dead letter, a progress row per flush
    assert insert.token == "t.in/0:0-1+t.in/0:2-3" and insert.size == 8
    assert isinstance(insert.native, tuple) and len(insert.native) == 3  # header, 2 blocks
    assert run.metrics.flushes == 1 and run.metrics.records[0] == 4
    assert all(m.acked and m.is_decided for m in run.sent)


def test_a_take_that_did_not_fill_is_inserted_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Live traffic: the take ended before it filled (2 batches of 10). Its first flush is held
    # for the second (decided from the same take), which goes out at once with it: nothing
    # waits for a take that may not come.
    monkeypatch.setattr(interactions, "flushes_of", lambda events: [[e] for e in events])
    monkeypatch.setattr(interactions, "HOLD_S", 30.0)  # had it waited, no insert in 5 s
    run = drive_agent(
        tmp_path, monkeypatch, [event(1)], MemoryTail(), then=[[event(2)]], native=True
    )
    _leases, *facts = run.sink.batches
    assert [b.token for b in facts] == ["t.in/0:0-0+t.in/0:1-1"]
    assert run.metrics.flushes == 1
    assert all(m.acked and m.is_decided for m in run.sent)


class LeasedAwaySink(MemorySink):
    """The lease query answers nothing when this worker leases (its epoch is 1), then that
    another worker leased the partition since (epoch 2): this worker is fenced."""

    def __init__(self) -> None:
        super().__init__()
        self.lease_reads = 0

    async def read(self, sql: str, parameters: dict[str, Any] | None = None) -> list[Any]:
        if sql == interactions.LEASE_QUERY.sql:
            self.lease_reads += 1
            if self.lease_reads > 1:
                return [(0, 2, "other:1", datetime(2026, 12, 7, tzinfo=UTC))]
        return await super().read(sql, parameters)


def test_a_worker_leased_away_since_its_lease_decides_nothing_and_lets_the_batch_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another worker leased partition 0 after this one did (this one was paused past its
    # session timeout, say): the changelog may hold that worker's states, newer than the
    # progress this one read, and a flush decided on both would write stale states over
    # them. Nothing is decided: no insert, no state, the batch acknowledged but not decided
    # (Kafka's committed offset does not move), until the rebalance reaches this worker.
    sink = LeasedAwaySink()
    run = drive_agent(tmp_path, monkeypatch, [event(1)], MemoryTail(), sink=sink)
    assert [b.table for b in sink.batches] == ["partition_leases"]
    assert not [t for t, _, _ in run.producer.sent if t.endswith("-changelog")]
    assert run.sent[0].acked and not run.sent[0].is_decided


def test_with_the_customers_stage_the_customers_own_events_go_to_its_topic_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = [event(1), event(1), b"not json", event(2, channel="email")]
    run = drive_agent(tmp_path, monkeypatch, values, MemoryTail(), windows=Windows())
    forwarded = [(p, r) for t, p, r in run.producer.sent if t == "t.cust"]
    # the web visit and the inbound e-mail, once each, keyed by the customer, one partition
    assert [[(k, json.loads(v or b"")["event_id"]) for k, v in r] for _, r in forwarded] == [
        [(CUSTOMER.encode(), "e1"), (CUSTOMER.encode(), "e2")]
    ]
    assert run.sent[0].acked  # and the insert went through after it
    alone = drive_agent(tmp_path / "alone", monkeypatch, values, MemoryTail())
    assert not [t for t, _, _ in alone.producer.sent if t == "t.cust"]


def test_the_new_owner_reads_the_changelog_recovery_stopped_short_of_before_it_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The previous owner's last flush started journey j1 (event e1 on the web): its state
    # reached the changelog after this worker's recovery had read to the end it saw, and its
    # insert reached ClickHouse before this worker's lease. e2 of j1 must not count j1 again.
    previous = JourneyState(h=0)
    previous.events[id_hash(b"e1")] = 0
    previous.channels["web"] = 0
    previous.first = First(0, 1_622_534_400_000, "acme", "telecom", "digital_customer_service")
    tail = MemoryTail({0: [(0, b"j1", encode(previous))]})
    at = datetime(2021, 6, 1, 8, tzinfo=UTC)
    applied = MemorySink(progress=[(0, 0, at, at)])  # ClickHouse holds offset 0 (e1)
    run = drive_agent(tmp_path, monkeypatch, [event(2)], tail, applied, start=1)
    assert tail.reads == [(0, 0, 1)]
    (insert,) = run.sink.batches[1:]
    kinds = list(insert.data[FACT_COLUMNS.index("fact")])
    assert kinds.count("interaction") == 1
    assert kinds.count("journey") == 0, "j1 was counted again"


def test_a_changelog_the_broker_cannot_serve_yet_is_retried_before_anything_is_decided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Right after a broker restart the end offsets time out, then the connection is refused:
    # the agent keeps trying (no flush is decided without the tail), then decides as usual.
    monkeypatch.setattr(interactions, "CATCH_UP_FIRST_RETRY_S", 0.01)

    class FlakyTail(MemoryTail):
        failures = [TimeoutError("end offsets timed out"), ConnectionRefusedError("refused")]

        async def ends(self, topic: str, partitions: Any) -> dict[int, int]:
            if self.failures:
                raise self.failures.pop(0)
            return await super().ends(topic, partitions)

    tail = FlakyTail()
    run = drive_agent(tmp_path, monkeypatch, [event(1)], tail)
    assert not tail.failures
    (insert,) = run.sink.batches[1:]
    assert list(insert.data[FACT_COLUMNS.index("fact")]).count("interaction") == 1


def test_a_changelog_the_broker_refuses_restarts_the_worker_with_nothing_inserted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Right after a broker restart the changelog's partitions have no leader yet: the delivery
    # fails. The flush must not reach ClickHouse, nothing may be acknowledged, and the process
    # asks its supervisor for a fresh start (which resumes from what ClickHouse holds).
    from aiokafka.errors import LeaderNotAvailableError

    from streams.errors import RESTART_EXIT_CODE
    from tests.support import MemoryProducer

    stops: list[tuple[str, int]] = []
    monkeypatch.setattr(interactions, "stop_worker", lambda why, code=0: stops.append((why, code)))

    from streams.kafka.batch_sender import Delivery

    async def refused(self: MemoryProducer, topic: str, partition: int, records: Any) -> list[Any]:
        records = list(records)
        self.sent.append((topic, partition, records))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(LeaderNotAvailableError())
        return [Delivery(topic, partition, len(records), future)]

    monkeypatch.setattr(MemoryProducer, "send", refused)
    run = drive_agent(tmp_path, monkeypatch, [event(1)], MemoryTail())
    assert [code for _, code in stops] == [RESTART_EXIT_CODE], stops
    assert "LeaderNotAvailableError" in stops[0][0]
    assert [b.table for b in run.sink.batches] == ["partition_leases"]  # no insert
    assert not run.sent[0].acked and not run.committed[1:]


def test_first_gap_finds_records_kafka_never_delivered() -> None:
    def batch(partition: int, *offsets: int) -> PartitionBatch:
        return PartitionBatch(
            "t", partition, list(offsets), [0] * len(offsets), [b"{}"] * len(offsets)
        )

    known = {0: PartitionProgress(offset=9)}
    assert interactions.first_gap([batch(0, 5, 10, 11)], known, {}) is None
    assert interactions.first_gap([batch(0, 12)], known, {}) == "0:10-11"
    # A partition nothing was decided of starts where assignment sought it.
    assert interactions.first_gap([batch(1, 3)], known, {1: 0}) == "1:0-2"
    assert interactions.first_gap([batch(1, 0, 1)], known, {1: 0}) is None
    # Consecutive batches of a partition continue each other.
    assert interactions.first_gap([batch(0, 10), batch(0, 12)], known, {}) == "0:11-11"
    # Retention deleted records no worker applied: assignment sought past them, to the log
    # start (the loss is recorded there); they are not a gap to restart for, again and again.
    assert interactions.first_gap([batch(0, 40, 41)], known, {0: 40}) is None
    assert interactions.first_gap([batch(0, 42)], known, {0: 40}) == "0:40-41"


def test_recovery_never_lets_a_stale_journey_state_replace_a_newer_one(tmp_path: Path) -> None:
    """A worker that lost its partition may write its state after the new owner's: on
    recovery the state that has seen the most wins, whatever the changelog order."""
    app = make_app(tmp_path)
    table = declare_journeys(app, 4)
    offsets = iter(range(1000))

    def entry(key: bytes, high: int | None) -> Any:
        value = None if high is None else encode(JourneyState(h=high))
        message = SimpleNamespace(key=key, value=value, partition=0, offset=next(offsets))
        return SimpleNamespace(key=key, value=value, message=message)

    table.apply_changelog_batch(
        [
            entry(b"a", 150),  # the new owner's state
            entry(b"a", 100),  # the paused old owner's, written later
            entry(b"b", 5),
            entry(b"b", 9),  # normal progress: later and newer
            entry(b"c", 7),
            entry(b"c", None),  # the expiry sweep deletes
        ]
    )
    table.apply_changelog_batch([entry(b"b", 8)])  # stale, in a later batch
    a, b, c = table.store.load(0, [b"a", b"b", b"c"])
    assert decode(a).h == 150
    assert decode(b).h == 9
    assert c is None
    # The store remembers how far into the changelog it is.
    assert table.store.persisted(table.changelog_topic_name, 0) == 6


def test_recovery_reads_the_json_states_older_workers_wrote(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    table = declare_journeys(app, 1)
    old = {
        "h": 4,
        "t": 1000,
        "e": {"e1": 1, "e2": 4},
        "c": {"web": 1},
        "f": [1, 900, "acme", "retail", "smart_notification"],
        "m": {"m1": {"s": [2, 950, "order", "sms", "acme", "retail", "smart_notification"]}},
    }
    message = SimpleNamespace(key=b"j", value=json.dumps(old).encode(), partition=0, offset=0)
    table.apply_changelog_batch([SimpleNamespace(key=b"j", value=None, message=message)])
    (raw,) = table.store.load(0, [b"j"])
    state = decode(raw)
    assert state.h == 4 and len(state.events) == 2 and state.first is not None
    assert state.first.tenant == "acme" and len(state.messages) == 1


def test_supersedes() -> None:
    from streams.logic.journey_state import supersedes

    def state(high: int) -> bytes:
        return encode(JourneyState(h=high))

    assert supersedes(state(3), state(2)) and supersedes(state(3), state(3))
    assert not supersedes(state(1), state(2))
    assert supersedes(None, state(2)) and supersedes(state(1), None)
