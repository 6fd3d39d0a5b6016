"""Every faust-streaming internal ``streams.agents.faust_batches`` relies on is still there, as it
was.

An upgrade of faust-streaming that moves any of these fails here, naming what moved, instead
of in a worker that silently stops acknowledging or recovering. If this fails after an upgrade,
read ``streams/agents/faust_batches.py`` against the new Faust before changing the pin.
"""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.consumer import fetcher as aiokafka_fetcher
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faust.stores import rocksdb as faust_rocksdb
from faust.tables import base as tables_base
from faust.tables import recovery as faust_recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, tuples

from streams.agents.faust_batches import (
    FAUST_VERSION,
    BatchConsumer,
    BatchTransport,
    _PartitionRecords,
)

# aiokafka's own class, which the fetcher's module attribute no longer names once patched.
AIOKAFKA_PARTITION_RECORDS = _PartitionRecords.__bases__[0]


def test_faust_is_the_pinned_version() -> None:
    assert version("faust-streaming") == FAUST_VERSION, (
        f"faust-streaming is {version('faust-streaming')}, streams/agents/faust_batches.py was "
        f"written against {FAUST_VERSION}: check every internal it uses, then update the pin"
    )


def test_the_journey_transport_is_registered() -> None:
    (found,) = [e for e in entry_points(group="faust.transports") if e.name == "journey"]
    assert found.load() is BatchTransport
    assert faust.transport.by_url("journey://127.0.0.1:9092") is BatchTransport


# (owner, attribute, parameters it must take, or None for a plain attribute)
USED: list[tuple[object, str, tuple[str, ...] | None]] = [
    (faust_consumer.Consumer, "_wait_next_records", ("self", "timeout")),
    (faust_consumer.Consumer, "_new_offset", ("self", "tp")),
    (faust_consumer.Consumer, "_add_gap", ("self", "tp", "offset_from", "offset_to")),
    (faust_consumer.Consumer, "perform_seek", ("self",)),
    (faust_consumer.Consumer, "on_partitions_revoked", ("self", "revoked")),
    (faust_consumer.Consumer, "ack", ("self", "message")),
    (faust_consumer.Consumer, "getmany", ("self", "timeout")),
    (faust_aiokafka.Consumer, "_to_message", ("self", "tp", "record")),
    (faust_aiokafka.Consumer, "_new_consumer_thread", ("self",)),
    (faust_aiokafka.AIOKafkaConsumerThread, "_create_worker_consumer", ("self", "transport")),
    (faust_aiokafka.Consumer, "_commit", ("self", "offsets")),
    (faust_aiokafka.Transport, "Consumer", None),
    (tuples, "ack_lock", None),
    (tuples.ConsumerMessage, "on_final_ack", ("self", "consumer")),
    (faust_rocksdb.Store, "_db_for_partition", ("self", "partition")),
    (faust_rocksdb.Store, "persisted_offset", ("self", "tp")),
    (faust_rocksdb.Store, "set_persisted_offset", ("self", "tp", "offset")),
    (faust_rocksdb.Store, "offset_key", None),
    (faust_rocksdb.RocksDBOptions, "as_options", ("self",)),
    (tables_base.Collection, "_new_store_by_url", ("self", "url")),
    (tables_base.Collection, "apply_changelog_batch", ("self", "batch")),
    (tables_base.Collection, "changelog_topic_name", None),
    (faust.Stream, "noack_take", ("self", "max_", "within")),
    (faust.App, "in_recovery", None),
    (aiokafka_fetcher, "PartitionRecords", None),
    (aiokafka_fetcher, "READ_COMMITTED", None),
    (aiokafka_fetcher.PartitionRecords, "_consumer_record", ("self", "tp", "record")),
    (
        AIOKAFKA_PARTITION_RECORDS,
        "__init__",
        (
            "self",
            "tp",
            "records",
            "aborted_transactions",
            "fetch_offset",
            "key_deserializer",
            "value_deserializer",
            "check_crcs",
            "isolation_level",
        ),
    ),
    (aiokafka_fetcher.FetchResult, "getall", ("self", "max_records")),
]


@pytest.mark.parametrize(("owner", "name", "parameters"), USED, ids=lambda x: str(x)[:40])
def test_an_internal_the_batch_transport_uses_is_unchanged(
    owner: object, name: str, parameters: tuple[str, ...] | None
) -> None:
    assert hasattr(owner, name), f"{owner!r} no longer has {name}"
    if parameters is not None:
        found = tuple(inspect.signature(getattr(owner, name)).parameters)
        assert found[: len(parameters)] == parameters, f"{owner!r}.{name}{found}"


def test_the_consumer_state_the_acks_use_is_made_as_before() -> None:
    source = inspect.getsource(faust_consumer.Consumer.__init__)
    for attribute in (
        "_committed_offset",
        "_acked",
        "_unacked_messages",
        "_buffered_partitions",
        "_waiting_for_ack",
    ):
        assert attribute in source, f"Consumer.__init__ no longer sets {attribute}"
    # The drain loop must still fetch through getmany and deliver each message it yields.
    drain = inspect.getsource(faust_consumer.Consumer._drain_messages)
    assert "getmany(timeout=" in drain and "callback(message)" in drain
    # ... and record a step of more than one offset between messages through _add_gap,
    # which the batch consumer turns off for its topics.
    assert "self._add_gap(tp, r_offset + 1, offset)" in drain
    # The fetch's wait, set on the consumer before it starts, reaches its fetcher; Faust
    # makes its consumer thread as the batch consumer does.
    assert "AIOKafkaConsumerThread(self, loop=self.loop, beacon=self.beacon)" in inspect.getsource(
        faust_aiokafka.Consumer._new_consumer_thread
    )
    kafka = inspect.getsource(AIOKafkaConsumer)
    assert "self._fetch_min_bytes = fetch_min_bytes" in kafka
    assert "fetch_min_bytes=self._fetch_min_bytes" in kafka
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in kafka
    # The store's databases per partition, and its recovery writing raw keys and values.
    # Recovery reads each changelog up to the end it saw when it began (the journey store
    # catches up past it after the lease).
    recovery = inspect.getsource(faust_recovery.Recovery)
    assert "active_highwaters" in recovery and "self.app.in_recovery = True" in recovery
    store = inspect.getsource(faust_rocksdb.Store)
    assert "self._dbs" in store and "batches[msg.partition].put(msg.key, msg.value)" in store


def test_the_batch_consumer_overrides_what_it_means_to() -> None:
    for name in (
        "getmany",
        "ack",
        "_new_offset",
        "_add_gap",
        "_new_consumer_thread",
        "on_partitions_revoked",
    ):
        assert name in vars(BatchConsumer), name


def test_a_batch_topic_gets_the_readers_own_records_and_others_get_consumer_records() -> None:
    from aiokafka.structs import ConsumerRecord, TopicPartition

    from streams.agents.faust_batches import _BATCH_TOPICS, _PartitionRecords

    assert aiokafka_fetcher.PartitionRecords is _PartitionRecords, "the fetcher is not patched"
    builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, -1)
    builder.append(0, timestamp=1_000, key=b"j", value=b"{}", headers=[])
    record = next(iter(_read(builder.build())))
    _BATCH_TOPICS.add("batched")
    try:
        records = _PartitionRecords.__new__(_PartitionRecords)
        records._key_deserializer = records._value_deserializer = None
        raw = records._consumer_record(TopicPartition("batched", 0), record)
        full = records._consumer_record(TopicPartition("changelog", 0), record)
    finally:
        _BATCH_TOPICS.discard("batched")
    # What BatchMessage reads, on the reader's own record.
    assert (raw.offset, raw.timestamp, raw.timestamp_type, raw.value) == (0, 1_000, 0, b"{}")
    assert isinstance(full, ConsumerRecord) and full.topic == "changelog"


def _fetched(base_offsets: list[int], per_batch: int) -> bytes:
    """A fetch response's record batches, of ``per_batch`` records from each base offset."""
    import struct

    data = bytearray()
    for base in base_offsets:
        builder = DefaultRecordBatchBuilder(2, 3, 0, -1, -1, -1, 10**7)  # lz4, as the bench's
        for i in range(per_batch):
            builder.append(i, timestamp=1_000 + base + i, key=None, value=b"v%d" % (base + i),
                           headers=[])  # fmt: skip
        batch = builder.build()
        batch[0:8] = struct.pack(">q", base)
        data += batch
    return bytes(data)


@pytest.mark.parametrize("max_records", [None, 7, 1000])
@pytest.mark.parametrize("fetch_offset", [0, 3, 9])  # the broker starts at its batch
def test_a_batch_topics_fetch_gives_what_aiokafkas_own_loop_gives(
    max_records: int | None, fetch_offset: int
) -> None:
    """The batch topics' own loop through aiokafka's FetchResult.getall, as the consumer takes
    records: the same records from the same fetch offset, the same position after each
    getall (also when max_records stops it inside a batch), and nothing after the end."""
    from aiokafka.consumer.subscription_state import SubscriptionState
    from aiokafka.record.memory_records import MemoryRecords
    from aiokafka.structs import TopicPartition

    from streams.agents.faust_batches import _BATCH_TOPICS

    data = _fetched([0, 10, 25], 10)  # a gap between 20 and 25, as after compaction

    async def take(cls: type, topic: str) -> list[tuple[list[int], int]]:
        tp = TopicPartition(topic, 0)
        subscription = SubscriptionState()
        subscription.assign_from_user({tp})
        assignment = subscription.subscription.assignment
        assignment.state_value(tp).seek(fetch_offset)
        records = cls(tp, MemoryRecords(data), [], fetch_offset, None, None, True, 0)
        result = aiokafka_fetcher.FetchResult(
            tp, assignment=assignment, partition_records=records, backoff=0
        )
        out = []
        while result.has_more():
            got = result.getall(max_records)
            out.append(([r.offset for r in got], assignment.state_value(tp).position))
        assert not result.has_more()
        return out

    _BATCH_TOPICS.add("batched")
    try:
        ours = asyncio.run(take(_PartitionRecords, "batched"))
        theirs = asyncio.run(take(AIOKAFKA_PARTITION_RECORDS, "changelog"))
    finally:
        _BATCH_TOPICS.discard("batched")
    assert ours == theirs
    assert [o for offsets, _ in ours for o in offsets] == [
        o for o in [*range(20), *range(25, 35)] if o >= fetch_offset
    ]
    assert ours[-1][1] == 35


def test_consecutive_batches_record_no_gap_and_other_topics_keep_fausts_gaps() -> None:
    """A batch message's offset is its last, so Faust's drain loop sees a step of a batch's
    size between two consecutive batches and calls it a gap. Recorded, the gaps piled up one
    interval per batch in a tree rebuilt whole at every addition (most of the worker's time
    within minutes at a live rate, and growing)."""
    from collections import defaultdict

    from intervaltree import IntervalTree

    from streams.agents.faust_batches import _BATCH_TOPICS

    consumer = BatchConsumer.__new__(BatchConsumer)
    consumer._committed_offset = defaultdict(lambda: None)
    consumer._gap = defaultdict(IntervalTree)
    batched, other = TP("batched", 0), TP("records", 0)
    _BATCH_TOPICS.add("batched")
    try:
        for last in range(99, 100_000, 100):  # a thousand batches of a hundred records
            asyncio.run(consumer._add_gap(batched, last - 98, last))
        asyncio.run(consumer._add_gap(other, 5, 9))
    finally:
        _BATCH_TOPICS.discard("batched")
    assert not consumer._gap[batched]
    assert [(i.begin, i.end) for i in consumer._gap[other]] == [(5, 10)]


def _read(data: bytes) -> object:
    from aiokafka.record.memory_records import MemoryRecords

    return MemoryRecords(bytes(data)).next_batch()


def test_the_worker_consumer_waits_for_a_fetch_to_fill(tmp_path: Path) -> None:
    """Faust asks each fetch for one byte: at a live rate a flush followed every fetch, and
    ClickHouse spent more than a core on small inserts. The batch consumer's fetches wait."""
    from streams.agents.faust_batches import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES
    from tests.unit.agents.test_ingest_agent import make_app

    app = make_app(tmp_path)

    async def made_in_a_loop() -> Any:  # aiokafka makes its consumer inside an event loop
        return app.consumer._thread._create_worker_consumer(app.transport)

    made = asyncio.run(made_in_a_loop())
    assert (made._fetch_min_bytes, made._fetch_max_wait_ms) == (FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS)
    assert FETCH_MIN_BYTES > 1
