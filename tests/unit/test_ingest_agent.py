"""The ingest agent, driven through Faust's ``test_context`` (no broker, no ClickHouse)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest.mock import MagicMock

import faust
import pytest

from streams.agents import interactions
from streams.logic.aggregate import FACT_COLUMNS, Rules
from streams.metrics import WorkerMetrics
from streams.sinks.clickhouse import Batch
from streams.topics import Topics

CUSTOMER = "ph:k1:" + "cd" * 16


class MemorySink:
    """Records batches; answers the progress query with what it holds."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []

    async def read(self, sql: str, parameters: dict[str, Any] | None = None) -> list[Any]:
        assert parameters is not None and "topic" in parameters  # bound, not formatted
        return []

    async def write(self, batch: Batch) -> int:
        self.batches.append(batch)
        return 0


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


@pytest.fixture
def app() -> faust.App:
    app = faust.App(
        "test-ingest", broker="kafka://127.0.0.1:1", store="memory://", autodiscover=False
    )
    app.finalize()
    return app


def test_agent_writes_one_batch_of_facts_with_progress(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    topics = Topics(app.topic("t.in", **raw), app.topic("t.dead", **raw))
    # No broker: capture what would go to the changelog and the dead-letter topic.
    changelog: list[tuple[Any, Any]] = []
    dead: list[bytes] = []

    def send_changelog(self: Any, partition: Any, key: Any, value: Any, *a: Any, **k: Any) -> Any:
        changelog.append((key, value))
        return MagicMock(message=MagicMock(partition=0))

    async def send_dead(*, key: bytes, value: bytes) -> None:
        dead.append(value)

    monkeypatch.setattr("faust.tables.base.Collection.send_changelog", send_changelog)
    monkeypatch.setattr(topics.dead_letters, "send", send_dead)
    sink = MemorySink()
    metrics = WorkerMetrics()
    agent = interactions.register(app, topics, sink, Rules(), metrics)  # type: ignore[arg-type]

    async def earliest(*tps: Any) -> dict[Any, int]:
        return {tp: 0 for tp in tps}

    committed: list[Any] = []

    async def commit(offsets: Any) -> bool:
        committed.append(offsets)
        return True

    monkeypatch.setattr(app.consumer, "earliest_offsets", earliest)
    monkeypatch.setattr(app.consumer, "_commit", commit)

    async def drive() -> None:
        from faust.types import TP

        async with agent.test_context() as ctx:
            # The agent waits for the assignment hook: leases taken, starts recorded.
            await app.on_partitions_assigned.send(assigned={TP("t.in", 0)})
            for value in (event(1), event(1), b"not json", event(2, channel="email")):
                await ctx.put(key=b"j1", value=value)
            for _ in range(50):
                if sink.batches:
                    break
                await asyncio.sleep(0.1)

    asyncio.run(drive())
    leases, *facts = sink.batches
    assert facts, "the agent wrote nothing"
    assert leases.table == "partition_leases" and [r[1:3] for r in leases.rows] == [[0, 1]]
    assert list(committed[0].values()) == [0]  # ClickHouse holds nothing: start at the log start
    rows = [r for b in facts for r in b.rows]
    kinds = [r[0] for r in rows]
    assert kinds.count("interaction") == 2  # e1 counted once
    assert kinds.count("dead_letter") == 1
    assert kinds.count("progress") >= 1
    assert all(b.table == "ingest_facts" and b.columns == FACT_COLUMNS for b in facts)
    assert {r[-1] for r in rows} == {1}  # every row carries the lease epoch
    assert metrics.duplicates[0] == 1
    assert [k for k, _ in changelog] == [b"j1"]  # one state write per journey per batch
    assert set(changelog[0][1]["e"]) == {"e1", "e2"}
    assert json.loads(dead[0])["reason"].startswith("is not JSON")
    assert 'journey_dead_letters_total{code="event:is not JSON"} 1' in metrics.render("t.in")


def test_first_gap_finds_records_kafka_never_delivered() -> None:
    from streams.logic.aggregate import PartitionProgress
    from streams.logic.ingest import SourceRecord

    def rec(partition: int, offset: int) -> SourceRecord:
        return SourceRecord("t", partition, offset, 0, b"{}")

    known = {0: PartitionProgress(offset=9)}
    assert interactions.first_gap([rec(0, 5), rec(0, 10), rec(0, 11)], known, {}) is None
    assert interactions.first_gap([rec(0, 12)], known, {}) == "0:10-11"
    # A partition ClickHouse holds nothing of starts where assignment sought it.
    assert interactions.first_gap([rec(1, 3)], known, {1: 0}) == "1:0-2"
    assert interactions.first_gap([rec(1, 0), rec(1, 1)], known, {1: 0}) is None


def test_recovery_never_lets_a_stale_journey_state_replace_a_newer_one() -> None:
    """A worker that lost its partition may write its state after the new owner's: on
    recovery the state that has seen the most wins, whatever the changelog order."""
    from types import SimpleNamespace

    app = faust.App("recovery-test", broker="memory://", store="memory://")
    table = interactions.declare_journeys(app, 4)

    def entry(key: bytes, state: dict[str, Any] | None) -> Any:
        message = SimpleNamespace(value=None if state is None else b"{}", partition=0)
        return SimpleNamespace(key=key, value=state, message=message)

    def state(high: int) -> dict[str, Any]:
        return {"h": high, "t": 0, "e": {}, "c": {}, "f": None, "m": {}}

    table.apply_changelog_batch(
        [
            entry(b"a", state(150)),  # the new owner's state
            entry(b"a", state(100)),  # the paused old owner's, written later
            entry(b"b", state(5)),
            entry(b"b", state(9)),  # normal progress: later and newer
            entry(b"c", state(7)),
            entry(b"c", None),  # the TTL sweep deletes
        ]
    )
    table.apply_changelog_batch([entry(b"b", state(8))])  # stale, in a later batch
    assert table.data[b"a"]["h"] == 150
    assert table.data[b"b"]["h"] == 9
    assert b"c" not in table.data


def test_supersedes() -> None:
    from streams.logic.aggregate import supersedes

    assert supersedes({"h": 3}, {"h": 2}) and supersedes({"h": 3}, {"h": 3})
    assert not supersedes({"h": 1}, {"h": 2})
    assert supersedes(None, {"h": 2}) and supersedes({"h": 1}, None)
