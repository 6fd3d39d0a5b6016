"""The journey store as the worker uses it: batched reads and writes, the changelog, the sweep."""

from __future__ import annotations

import asyncio
from pathlib import Path

import faust

from streams.agents.faust_batches import declare_journeys
from streams.agents.journey_store import JourneyStates, Sweeper
from streams.logic.journey_state import Expiry, JourneyState, decode, encode
from tests.support import MemoryProducer, MemoryTail

DAY = 86_400_000


def journey_states(
    tmp_path: Path, tail: MemoryTail | None = None
) -> tuple[JourneyStates, MemoryProducer]:
    app = faust.App("store-test", broker="journey://127.0.0.1:1", datadir=str(tmp_path))
    app.finalize()
    table = declare_journeys(app, 2)
    producer = MemoryProducer()
    states = JourneyStates(
        table.store,
        producer,  # type: ignore[arg-type]
        table.changelog_topic_name,
        tail or MemoryTail(),
    )
    return states, producer


def test_a_flush_is_one_write_one_changelog_batch_and_the_offset_it_reached(
    tmp_path: Path,
) -> None:
    states, producer = journey_states(tmp_path)
    states.store.persist(states.changelog, 1, 9)  # it holds the changelog up to offset 9

    async def run() -> None:
        staged = await states.stage({1: {"j1": JourneyState(h=4), "j2": JourneyState(h=5)}})
        assert staged.states == 2 and len(staged.deliveries) == 1
        await states.confirm(staged)

    asyncio.run(run())
    ((topic, partition, records),) = producer.sent
    assert topic.endswith("-journeys-changelog") and partition == 1
    assert [k for k, _ in records] == [b"j1", b"j2"]
    assert [decode(s).h for s in states.load(1, ["j1", "j2", "j3"]) if s] == [4, 5]
    assert states.load(1, ["j3"]) == [None] and states.load(0, ["j1"]) == [None]
    # The batch's last record (base offset 10, two records): the store holds up to 11.
    assert states.store.persisted(states.changelog, 1) == 11


def test_entries_another_worker_wrote_in_between_keep_the_offset_where_it_was(
    tmp_path: Path,
) -> None:
    # A worker paused past its session timeout wakes and writes its flush after the new
    # owner's entries (offsets 4 to 9 here, not in this store): were its offset recorded, a
    # recovery on this disk would start past them and never read them.
    states, _producer = journey_states(tmp_path)
    states.store.persist(states.changelog, 1, 3)

    async def run() -> None:
        staged = await states.stage({1: {"j1": JourneyState(h=4)}})  # lands at offset 10
        await states.confirm(staged)

    asyncio.run(run())
    assert states.store.persisted(states.changelog, 1) == 3


def test_dead_letters_sent_with_a_flush_are_not_changelog_offsets(tmp_path: Path) -> None:
    states, producer = journey_states(tmp_path)
    states.store.persist(states.changelog, 1, 9)

    async def run() -> None:
        staged = await states.stage({1: {"j1": JourneyState(h=4)}})  # changelog offset 10
        staged.deliveries += await producer.send("dead-letters", 1, [(b"1", b"x")] * 5)
        await states.confirm(staged)

    asyncio.run(run())
    assert states.store.persisted(states.changelog, 1) == 10


def test_catching_up_reads_the_changelog_past_the_store_offset_and_keeps_the_newest_state(
    tmp_path: Path,
) -> None:
    # Recovery read partition 1's changelog up to offset 3. The previous owner then wrote
    # offsets 4 to 7 (and had its insert land before this worker's lease): their states must
    # be in the store before this worker's first flush, or the journeys they started would be
    # counted again. A stale entry (a zombie's, offset 6) never replaces a newer state.
    tail = MemoryTail(
        {
            1: [
                (4, b"j1", encode(JourneyState(h=40))),
                (5, b"j2", encode(JourneyState(h=41))),
                (6, b"j1", encode(JourneyState(h=12))),
                (7, b"j3", None),
            ]
        }
    )
    states, _producer = journey_states(tmp_path, tail)
    states.store.write(1, [(b"j3", encode(JourneyState(h=2)))])
    states.store.persist(states.changelog, 1, 3)
    states.store.persist(states.changelog, 0, 9)  # partition 0 is up to date: nothing read

    read = asyncio.run(states.catch_up([0, 1]))

    assert read == 4 and tail.reads == [(1, 4, 8)]
    loaded = states.load(1, ["j1", "j2", "j3"])
    assert [decode(s).h if s else None for s in loaded] == [40, 41, None]
    assert states.store.persisted(states.changelog, 1) == 7
    # Caught up: nothing more to read until someone writes again.
    assert asyncio.run(states.catch_up([0, 1])) == 0 and len(tail.reads) == 1


def test_a_store_that_never_held_the_changelog_catches_up_from_its_start(tmp_path: Path) -> None:
    tail = MemoryTail({0: [(0, b"j1", encode(JourneyState(h=3)))]})
    states, _producer = journey_states(tmp_path, tail)
    assert asyncio.run(states.catch_up([0])) == 1
    assert tail.reads == [(0, 0, 1)] and states.store.persisted(states.changelog, 0) == 0


def test_the_sweep_forgets_idle_journeys_a_bounded_number_of_keys_at_a_time(
    tmp_path: Path,
) -> None:
    states, producer = journey_states(tmp_path)
    old = {f"old{i:03d}": JourneyState(t=0) for i in range(50)}
    fresh = {f"new{i:03d}": JourneyState(t=200 * DAY) for i in range(50)}
    states.store.write(0, [(k.encode(), encode(v)) for k, v in (old | fresh).items()])
    sweeper = Sweeper(Expiry(120 * DAY), every_s=300, keys_per_step=30)
    watermarks = {0: 200 * DAY}

    async def run() -> int:
        steps = 0
        assert await sweeper.step(states, watermarks, now=sweeper_start + 10) == []  # too early
        now = sweeper_start + 301
        while True:
            await sweeper.step(states, watermarks, now=now)
            steps += 1
            if not sweeper._pending:
                return steps

    sweeper_start = sweeper._pass_started
    steps = asyncio.run(run())
    assert steps == 4  # 100 keys, 30 at a time
    assert sweeper.forgotten == 50
    assert all(v is None for v in states.load(0, list(old)))
    assert all(v is not None for v in states.load(0, list(fresh)))
    tombstones = [k for _, _, records in producer.sent for k, v in records if v is None]
    assert sorted(tombstones) == sorted(k.encode() for k in old)


def test_the_store_reports_its_memory_by_kind_and_metrics_show_it(tmp_path: Path) -> None:
    from streams.metrics import WorkerMetrics

    states, _producer = journey_states(tmp_path)
    before = states.store.memory()
    states.store.write(0, [(f"j{n}".encode(), b"x" * 50) for n in range(20_000)])
    after = states.store.memory()
    assert set(after) == {"block_cache", "block_cache_pinned", "memtables", "table_readers"}
    # The writes sit in a memtable, which is charged to the shared block cache.
    assert after["memtables"] > before["memtables"] + 1_000_000
    assert after["block_cache"] >= after["memtables"]
    text = WorkerMetrics().render("t", None, after)
    assert f'journey_store_memory_bytes{{kind="memtables"}} {after["memtables"]}' in text
