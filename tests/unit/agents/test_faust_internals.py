"""Every faust-streaming internal ``streams.agents.faust_batches`` relies on is still there, as it
was.

An upgrade of faust-streaming that moves any of these fails here, naming what moved, instead
of in a worker that silently stops acknowledging or recovering. If this fails after an upgrade,
read ``streams/agents/faust_batches.py`` against the new Faust before changing the pin.
"""

from __future__ import annotations

import inspect
from importlib.metadata import entry_points, version

import faust
import pytest
from aiokafka.consumer import fetcher as aiokafka_fetcher
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faust.stores import rocksdb as faust_rocksdb
from faust.tables import base as tables_base
from faust.tables import recovery as faust_recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import tuples

from streams.agents.faust_batches import FAUST_VERSION, BatchConsumer, BatchTransport


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
    (faust_consumer.Consumer, "perform_seek", ("self",)),
    (faust_consumer.Consumer, "on_partitions_revoked", ("self", "revoked")),
    (faust_consumer.Consumer, "ack", ("self", "message")),
    (faust_consumer.Consumer, "getmany", ("self", "timeout")),
    (faust_aiokafka.Consumer, "_to_message", ("self", "tp", "record")),
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
    (aiokafka_fetcher.PartitionRecords, "_consumer_record", ("self", "tp", "record")),
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
    # The store's databases per partition, and its recovery writing raw keys and values.
    # Recovery reads each changelog up to the end it saw when it began (the journey store
    # catches up past it after the lease).
    recovery = inspect.getsource(faust_recovery.Recovery)
    assert "active_highwaters" in recovery and "self.app.in_recovery = True" in recovery
    store = inspect.getsource(faust_rocksdb.Store)
    assert "self._dbs" in store and "batches[msg.partition].put(msg.key, msg.value)" in store


def test_the_batch_consumer_overrides_what_it_means_to() -> None:
    for name in ("getmany", "ack", "_new_offset", "on_partitions_revoked"):
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


def _read(data: bytes) -> object:
    from aiokafka.record.memory_records import MemoryRecords

    return MemoryRecords(bytes(data)).next_batch()
