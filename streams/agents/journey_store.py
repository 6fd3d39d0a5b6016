"""The journey states as the worker reads and writes them: batched, on disk, changelogged.

Reads are one multi-get per partition and flush. Writes are staged per flush: the states a
flush changed go to the partition's RocksDB database in one atomic write and to the table's
changelog topic as whole record batches (``BatchProducer``), before the flush's insert is sent
(the changelog is never behind ClickHouse; it may be ahead, which ``as_of`` handles). Once the
broker has a partition's changelog batches, the store records the changelog offset it holds,
so a restart on the same disk recovers only what was written after it.

The expiry sweep walks each partition's database with a cursor, a bounded number of keys at a
time, reading only each state's head (``h``, ``t``): nothing is loaded whole, and ingestion
goes on between steps. An expired journey is deleted from the store and from the changelog (a
tombstone).

**Catching up after a lease.** Faust recovers a partition's states from the changelog up to the
end it saw when recovery *began*. The previous owner may still be finishing a flush then (a
rebalance, a SIGTERM, a pause): its changelog entries land after that end and its insert lands
before this worker's lease, so ClickHouse holds its records while this store lacks their states,
and the journeys they started would be counted again (the rebalance chaos scenario caught it).
Its entries are always on the changelog before its insert, and the lease fences every insert
after it, so the changelog's end read *after the lease* covers every state ClickHouse's progress
depends on: :meth:`JourneyStates.catch_up` reads the store's missing tail up to that end before
the partition's first flush.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from streams.agents.faust_batches import JourneyStore
from streams.kafka.batch_sender import BatchProducer, Delivery
from streams.logic import journey_state
from streams.logic.journey_state import Expiry, JourneyState


class ChangelogTail(Protocol):
    """Reads a topic's partitions outside any consumer group (``streams.kafka.topic_reader``)."""

    async def ends(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Each partition's end offset (the next offset to be written)."""
        ...

    async def read(
        self, topic: str, partition: int, start: int, end: int
    ) -> list[tuple[int, bytes, bytes | None]]:
        """The records (offset, key, value) from ``start`` up to, not including, ``end``."""
        ...


@dataclass
class Staged:
    """What one flush wrote to the store, waiting for the broker to hold its changelog."""

    deliveries: list[Delivery] = field(default_factory=list)
    states: int = 0
    bytes: int = 0


class JourneyStates:
    """The ``journeys`` table's store and changelog, for one worker."""

    def __init__(
        self, store: JourneyStore, producer: BatchProducer, changelog: str, tail: ChangelogTail
    ) -> None:
        self.store = store
        self.producer = producer
        self.changelog = changelog
        self.tail = tail

    def load(self, partition: int, journey_ids: Sequence[str]) -> list[bytes | None]:
        """The stored state of each journey (None if unknown): one multi-get."""
        return self.store.load(partition, [j.encode() for j in journey_ids])

    async def stage(self, states: Mapping[int, Mapping[str, JourneyState]]) -> Staged:
        """Store the changed states and send them to the changelog (not waiting for it)."""
        staged = Staged()
        encode = journey_state.encode
        for partition, changed in states.items():
            if not changed:
                continue
            entries = [(jid.encode(), encode(state)) for jid, state in changed.items()]
            self.store.write(partition, entries)
            staged.states += len(entries)
            staged.bytes += sum(len(v) for _, v in entries)
            staged.deliveries += await self.producer.send(self.changelog, partition, entries)
        return staged

    async def confirm(self, staged: Staged) -> None:
        """Wait until the broker holds everything staged; then record, per partition, the
        changelog offset the store holds.

        Only as far as this worker's own batches follow on from what the store holds with
        nothing between them. Another worker may have written entries in between (a worker
        paused past its session timeout writes after the new owner has): those are not in this
        store, and a recovery starting past them would never read them (the zombie chaos
        scenario lost read pairs and counted journeys twice that way). Then the offset stays
        where it was, and the next recovery reads the changelog from there."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for delivery in staged.deliveries:
            first = await delivery.first_offset()
            if delivery.topic == self.changelog:  # not the dead letters sent with them
                spans.setdefault(delivery.partition, []).append(
                    (first, first + delivery.records - 1)
                )
        for partition, written in spans.items():
            if not self.store.is_open(partition):
                continue
            persisted = self.store.persisted(self.changelog, partition)
            start = held = -1 if persisted is None else persisted
            for first, last in sorted(written):
                if first != held + 1:
                    break
                held = last
            if held > start:
                self.store.persist(self.changelog, partition, held)

    async def catch_up(self, partitions: Sequence[int]) -> int:
        """Apply what the changelog holds beyond this store's offset, up to its end now, for
        each of ``partitions``; return the number of entries read. Call it after the lease and
        with no flush of this worker in flight."""
        ends = await self.tail.ends(self.changelog, partitions)
        read = 0
        for partition in partitions:
            end = ends.get(partition, 0)
            held = self.store.persisted(self.changelog, partition)
            start = 0 if held is None else held + 1
            if end <= start:
                continue
            entries = await self.tail.read(self.changelog, partition, start, end)
            self.store.apply_changelog(self.changelog, partition, entries)
            # Everything up to the end is in the store now, whatever compaction removed.
            self.store.persist(self.changelog, partition, end - 1)
            read += len(entries)
        return read

    async def forget(self, partition: int, keys: Sequence[bytes]) -> list[Delivery]:
        """Delete journeys from the store and the changelog (tombstones)."""
        self.store.write(partition, (), keys)
        return await self.producer.send(self.changelog, partition, [(k, None) for k in keys])


@dataclass
class Sweeper:
    """Forgets journeys idle past the state TTL (by event time, against each partition's
    watermark, so replays agree), a bounded number of keys per step."""

    expiry: Expiry
    every_s: float = 300.0  # a pass over every key at most this often, the first one too
    keys_per_step: int = 20_000
    _cursors: dict[int, bytes | None] = field(default_factory=dict)
    _pass_started: float = field(default_factory=time.monotonic)
    _pending: list[int] = field(default_factory=list)
    forgotten: int = 0

    async def step(
        self, states: JourneyStates, watermarks: Mapping[int, int], now: float | None = None
    ) -> list[Delivery]:
        """One step of the sweep over the partitions of ``watermarks`` (those owned, with the
        watermark ClickHouse holds): at most ``keys_per_step`` keys read."""
        now = time.monotonic() if now is None else now
        if not self._pending:
            if now - self._pass_started < self.every_s:
                return []
            self._pass_started = now
            self._pending = sorted(watermarks)
            self._cursors = {}
        deliveries: list[Delivery] = []
        budget = self.keys_per_step
        while self._pending and budget > 0:
            partition = self._pending[0]
            watermark = watermarks.get(partition)
            if watermark is None or not states.store.is_open(partition):
                self._pending.pop(0)
                continue
            asked = budget
            items = states.store.scan(partition, self._cursors.get(partition), asked)
            budget -= len(items)
            expired = [k for k, v in items if self.expiry.expired(v, watermark)]
            if expired:
                deliveries += await states.forget(partition, expired)
                self.forgotten += len(expired)
            if len(items) < asked:
                self._pending.pop(0)  # this partition's pass is complete
            else:
                self._cursors[partition] = items[-1][0]
        return deliveries
