"""Every use of faust-streaming's private internals, in one place (faust-streaming 0.15.3,
pinned in pyproject.toml; ``tests/unit/agents/test_faust_internals.py`` fails with a clear
message if anything used here changes).

**Batch delivery.** Faust hands an agent one event per Kafka record, and its consumer loop
awaits a group of tasks per record: that, not the worker's logic, capped any Faust agent here
at a few thousand records a second. The ``journey`` transport (registered under the
``faust.transports`` entry point in pyproject.toml, selected by a ``journey://`` broker URL)
keeps Faust's consumer, rebalancing, flow control and table recovery, and changes one thing:
an agent's topic is delivered **one event per fetched partition batch**. The event's message
is a :class:`BatchMessage` holding the batch's offsets, timestamps and values; its ``offset``
is the batch's last. Table changelogs (recovery) still arrive record by record. Below Faust,
aiokafka's fetcher (0.14.0, pinned too) hands a batch topic's records over as its C reader made
them, from a loop of its own, without wrapping each in a ConsumerRecord.

Acknowledgements follow the batch: :meth:`BatchConsumer.ack` of a batch message advances the
partition's committable offset to the batch's last offset + 1, but only for a batch the agent
marked as *decided* (``decided()``) and only when it continues what is acknowledged already.
A batch Faust skipped (flow control during a rebalance, an older generation) is acknowledged by
Faust's stream without being decided, and therefore never moves the committed offset.

What would break the acks (do not do these with this transport):
- reading an agent's stream record by record, or with ``take``/``take_events`` (they see one
  value per *batch*, ``None``, and ``take_events`` acknowledges before the work is done);
- acknowledging a batch before its effects are stored (``decided`` must follow the insert);
- two agents on the same topic (each would get the same batch event; neither alone may ack).

**The journey store.** Faust's RocksDB store (python-rocksdict) keeps the ``journeys`` table
on disk, one database per partition, so resident memory does not grow with the number of live
journeys, and a restart reads only the changelog written since the store last persisted an
offset. :class:`JourneyStore` tunes the memory RocksDB may use (shared block cache, shared
write-buffer budget) and gives the worker batched access: a multi-get per flush, one
``WriteBatch`` per partition and flush. :class:`JourneyTable` makes recovery keep, per journey,
the state that has seen the most (``supersedes``), and reads the JSON states older versions of
the worker wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import faust
import rocksdict
from aiokafka.consumer import fetcher as aiokafka_fetcher
from faust.stores import rocksdb as faust_rocksdb
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ConsumerMessage, ack_lock
from mode.utils.futures import notify

from streams.logic import journey_state

FAUST_VERSION = "0.15.3"


# ---- batch delivery ------------------------------------------------------------------------
class BatchMessage(ConsumerMessage):
    """One fetched batch of one partition, delivered as one Faust message."""

    __slots__ = ("first_offset", "is_decided", "offsets", "timestamps", "values")

    def __init__(self, tp: TP, records: Sequence[Any], generation_id: int) -> None:
        last = records[-1]
        values: list[bytes] = [r.value or b"" for r in records]
        super().__init__(
            tp.topic,
            tp.partition,
            last.offset,
            (last.timestamp or 0) / 1000.0,
            last.timestamp_type,
            None,
            None,  # no key, no value: Faust's decoding of this message is a no-op
            None,
            None,
            0,
            sum(map(len, values)),
            tp,
            generation_id=generation_id,
        )
        self.first_offset: int = records[0].offset
        self.offsets: list[int] = [r.offset for r in records]
        self.timestamps: list[int] = [r.timestamp or 0 for r in records]
        self.values = values
        self.is_decided = False


# ---- fetched records without a ConsumerRecord each -----------------------------------------
# aiokafka wraps every fetched record in a ConsumerRecord dataclass (eleven fields, the key and
# value sizes, a tuple of headers): about a tenth of the worker's time per record. A batch
# topic's records are read for their offset, timestamp and value only, which the C reader's
# own record objects carry, so for those topics the fetcher hands them over as they are, from
# a loop of its own: aiokafka's calls a method for each record, and FetchResult.getall takes
# each through PartitionRecords.__next__, a Python call more (0.88 against 0.62 us a record
# with the batch message made, 5,000 calibrated records in three lz4 batches, 2026-12-07).
_BATCH_TOPICS: set[str] = set()


class _PartitionRecords(aiokafka_fetcher.PartitionRecords):
    def __init__(self, tp: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(tp, *args, **kwargs)
        self._batched = (
            tp.topic in _BATCH_TOPICS
            and self._value_deserializer is None
            # A transaction's aborted records are skipped by aiokafka's own loop only.
            and self._isolation_level != aiokafka_fetcher.READ_COMMITTED
        )
        if self._batched:
            self._records_iterator = self._batch_records()

    def __iter__(self) -> Any:
        # FetchResult.getall loops over this object: for a batch topic, the generator itself.
        if not self._batched:
            return self
        return self._records_iterator if self._records_iterator is not None else iter(())

    def _batch_records(self) -> Any:
        """aiokafka's ``_unpack_records`` for a read-uncommitted batch topic: the C reader's
        records as they are, the position moved past each one as it is taken (getall may
        stop inside a batch)."""
        records = self._records
        while records.has_next():
            batch = records.next_batch()
            if self._check_crcs and not batch.validate_crc():
                raise aiokafka_fetcher.Errors.CorruptRecordException(f"Invalid CRC - {self._tp}")
            if not batch.is_control_batch:
                start: int = self.next_fetch_offset  # type: ignore[has-type]
                for record in batch:
                    offset = record.offset
                    if offset >= start:  # below: the start of a batch already read
                        self.next_fetch_offset = offset + 1
                        yield record
            # Past a batch's last offset, even one compaction removed (as aiokafka).
            self.next_fetch_offset = batch.next_offset
        # The generator and this object refer to each other: let go (as aiokafka's __next__).
        self._records_iterator = None

    def _consumer_record(self, tp: Any, record: Any) -> Any:
        if tp.topic in _BATCH_TOPICS and self._value_deserializer is None:
            return record
        return super()._consumer_record(tp, record)


aiokafka_fetcher.PartitionRecords = _PartitionRecords


def decided(message: Any) -> None:
    """Mark a batch as done with (its effects stored): only then does its ack move the
    committed offset."""
    message.is_decided = True


# What one fetch waits for: the broker answers once it holds FETCH_MIN_BYTES for the request,
# or after FETCH_MAX_WAIT_MS. Faust asks for a single byte, so at a live rate every fetch
# brought a few records of each partition, a flush followed every fetch, and ClickHouse spent
# more than a core on small inserts at 1,000 records a second (8 a second, each through every
# view; the worker itself 14%, py-spy and top, 2026-12-07). Waiting for a megabyte or half a
# second makes a flush of every half second at that rate; a backlog fills a fetch at once
# (a partition batch of MAX_POLL_RECORDS is 1.5-2 MB), so replays do not wait.
FETCH_MIN_BYTES = 1024 * 1024
FETCH_MAX_WAIT_MS = 500


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        """Faust's aiokafka consumer, its fetches waiting for FETCH_MIN_BYTES (aiokafka reads
        both attributes when the consumer starts, into its fetcher)."""
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_min_bytes = FETCH_MIN_BYTES
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class BatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, delivering an agent's topics one partition batch at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per partition: the last offset of the acknowledged, decided batches.
        self._acked_through: dict[TP, int] = {}

    async def getmany(self, timeout: float) -> Any:  # an async iterator of (tp, message)
        """Fetch from the broker; yield one BatchMessage per partition of an agent's topic
        and, for table changelogs (recovery), one message per record (as Faust does)."""
        records, active_partitions = await self._wait_next_records(timeout)
        generation_id = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        if not self.flow_active:
            # As Faust: records fetched while the flow is stopped (a rebalance) are dropped
            # and the partitions sought back to their committed offsets.
            try:
                await self.perform_seek()
            except Exception as exc:
                self.log.warning(f"exception performing seek when flow not active {exc}")
            return
        changelogs = self.app.tables.changelog_topics
        for tp, batch in records.items():
            if not batch:
                continue
            if not self.flow_active or self.app.consumer_generation_id != generation_id:
                break
            if (
                active_partitions is not None
                and tp not in active_partitions
                and tp not in self._buffered_partitions
            ):
                continue
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            if tp.topic in changelogs:
                for record in batch:
                    yield tp, self._to_message(tp, record)
            else:
                _BATCH_TOPICS.add(tp.topic)  # its next fetches come without ConsumerRecords
                yield tp, BatchMessage(tp, batch, generation_id)

    def ack(self, message: Any) -> bool:
        """Acknowledge a message; a decided batch makes its partition committable up to its
        last offset + 1, if it continues what was acknowledged or committed before."""
        if not isinstance(message, BatchMessage):
            return bool(super().ack(message))
        with ack_lock:
            if message.acked:
                return False
            message.acked = True
            tp = message.tp
            try:
                self._unacked_messages.discard(message)
                if not (message.is_decided and self.app.topics.acks_enabled_for(tp.topic)):
                    return False
                through = self._acked_through.get(tp)
                committed = self._committed_offset[tp]
                expected = through + 1 if through is not None else committed
                if expected is None or message.first_offset <= expected <= message.offset + 1:
                    self._acked_through[tp] = max(
                        message.offset, -1 if through is None else through
                    )
                    self._acked[tp]
                    self._n_acked += 1
                    return True
                return False
            finally:
                notify(self._waiting_for_ack)

    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Faust's drain loop takes any step of more than one offset between two messages for
        a gap, and a batch message's offset is its last: every batch after the first was
        recorded as a gap, in an interval tree that nothing chops for a batch topic
        (``_new_offset`` below does not read it) and that Faust rebuilds whole
        (``merge_overlaps``) at each addition. At 1,000 records a second (about 40 batches)
        that was 64% of the worker's time after 2 minutes, growing with the run (py-spy,
        2026-12-07). A batch topic's acks follow its batches (``ack``), so it records no
        gaps."""
        if tp.topic in _BATCH_TOPICS:
            return
        await super()._add_gap(tp, offset_from, offset_to)

    def _new_offset(self, tp: TP) -> int | None:
        through = self._acked_through.get(tp)
        if through is None:
            return super()._new_offset(tp)
        committed = self._committed_offset[tp]
        if committed is None or through + 1 > committed:
            return through + 1
        return None

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self._acked_through.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    async def commit_offsets(self, offsets: Mapping[TP, int]) -> None:
        """Commit explicit offsets (the next offset to read, per partition) to Kafka. Faust's
        public commit only commits what was acknowledged; this is its driver's own commit."""
        await self._commit(offsets)
        for tp in offsets:
            self._acked_through.pop(tp, None)


class BatchTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with :class:`BatchConsumer`."""

    Consumer = BatchConsumer


def batch_consumer(app: Any) -> BatchConsumer:
    """The app's consumer, which must be the batch transport's."""
    consumer = app.consumer
    if not isinstance(consumer, BatchConsumer):
        raise TypeError(
            f"the app's broker URL must use the journey:// transport, got {type(consumer)!r}"
        )
    return consumer


async def recovery_finished(app: Any, poll_s: float = 0.05) -> None:
    """Return once Faust is not recovering tables (at once if it is not): batches of an older
    generation can reach the agent while the new assignment's recovery still runs."""
    import asyncio

    while app.in_recovery:
        await asyncio.sleep(poll_s)


# ---- the journey store ---------------------------------------------------------------------
# One block cache and one write-buffer budget for every partition's database: memory stays
# bounded whatever the number of partitions a worker owns (Faust's default gives each database
# 2 GiB of cache and 192 MiB of write buffers).
# 48 MiB in all, about what RocksDB held at 1 million live journeys (37 MB): whatever the cache
# holds beyond that is growth of the worker's memory with the journeys. With 96 MiB it held 89
# MB at 20 million, 52 of the 125 MB the peak grew by (make bench-state, 2026-12-03 20:45).
BLOCK_CACHE_BYTES = 48 * 1024 * 1024
WRITE_BUFFERS_BYTES = 24 * 1024 * 1024  # charged to the block cache
_SHARED: dict[str, Any] = {}


def _shared(name: str) -> Any:
    if name not in _SHARED:
        if name == "cache":
            _SHARED[name] = rocksdict.Cache(BLOCK_CACHE_BYTES)
        else:
            _SHARED[name] = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(
                WRITE_BUFFERS_BYTES, False, _shared("cache")
            )
    return _SHARED[name]


class _Options(faust_rocksdb.RocksDBOptions):
    """Faust's RocksDB options, with bounded memory and compact files."""

    def as_options(self) -> Any:
        options = rocksdict.Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_max_open_files(self.max_open_files or 1000)
        options.set_write_buffer_size(16 * 1024 * 1024)
        options.set_max_write_buffer_number(2)
        options.set_target_file_size_base(64 * 1024 * 1024)
        options.set_write_buffer_manager(_shared("write_buffers"))
        options.set_compression_type(rocksdict.DBCompressionType.lz4())
        table = rocksdict.BlockBasedOptions()
        table.set_bloom_filter(10, False)  # 10 bits a key: about 1% false positives
        table.set_block_cache(_shared("cache"))
        # Index and filter blocks live in the block cache too: memory does not grow with
        # the number of journeys on disk.
        table.set_cache_index_and_filter_blocks(True)
        table.set_pin_l0_filter_and_index_blocks_in_cache(True)
        options.set_block_based_table_factory(table)
        return options


class JourneyStore(faust_rocksdb.Store):
    """Faust's RocksDB store of the ``journeys`` table, with batched access per partition."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, driver="rocksdict", **kwargs)
        self.rocksdb_options = _Options(use_rocksdict=True)

    def load(self, partition: int, keys: Sequence[bytes]) -> list[bytes | None]:
        """The stored values of ``keys`` (one multi-get)."""
        if not keys:
            return []
        return list(self._db_for_partition(partition).get(list(keys)))

    def write(
        self, partition: int, puts: Iterable[tuple[bytes, bytes]], deletes: Iterable[bytes] = ()
    ) -> None:
        """Store and delete in one atomic write."""
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key, value in puts:
            batch.put(key, value)
        for key in deletes:
            batch.delete(key)
        self._db_for_partition(partition).write(batch)

    def scan(self, partition: int, after: bytes | None, limit: int) -> list[tuple[bytes, bytes]]:
        """Up to ``limit`` stored items of a partition, in key order, after key ``after``
        (from the first one when None); never the store's own offset entry."""
        db = self._db_for_partition(partition)
        out: list[tuple[bytes, bytes]] = []
        for key, value in db.items(from_key=after) if after is not None else db.items():
            if key == after or key == self.offset_key:
                continue
            out.append((key, value))
            if len(out) >= limit:
                break
        return out

    def apply_changelog(
        self, topic: str, partition: int, entries: Sequence[tuple[int, bytes, bytes | None]]
    ) -> None:
        """Apply a partition's changelog entries (offset, key, value; None deletes), in offset
        order, keeping per journey the state that has seen the most (``supersedes``) of what
        the store holds and the entries; then record the last offset as held."""
        if not entries:
            return
        keys = list(dict.fromkeys(key for _, key, _ in entries))
        held = self.load(partition, keys)
        current: dict[bytes, bytes | None] = dict(zip(keys, held, strict=True))
        changed: dict[bytes, bytes | None] = {}
        for _, key, raw in entries:
            value = _upgraded(raw)
            if journey_state.supersedes(value, current[key]):
                current[key] = changed[key] = value
        self.write(
            partition,
            [(k, v) for k, v in changed.items() if v is not None],
            [k for k, v in changed.items() if v is None],
        )
        self.persist(topic, partition, max(offset for offset, _, _ in entries))

    def persisted(self, topic: str, partition: int) -> int | None:
        """The last changelog offset whose entry this store holds."""
        return self.persisted_offset(TP(topic, partition))

    def persist(self, topic: str, partition: int, offset: int) -> None:
        """Record that the changelog up to ``offset`` is in this store."""
        self.set_persisted_offset(TP(topic, partition), offset)

    def is_open(self, partition: int) -> bool:
        """Whether this worker has the partition's database open (it is assigned here)."""
        return partition in self._dbs

    def memory(self) -> dict[str, int]:
        """Bytes RocksDB holds in memory, by kind: the block cache shared by every partition
        (memtables are charged to it, so they are inside ``block_cache`` too), the part of it
        pinned, and across this worker's open databases the memtables and the table readers
        (index and filter blocks are in the cache, so these stay small)."""
        cache = _shared("cache")
        out = {
            "block_cache": int(cache.get_usage()),
            "block_cache_pinned": int(cache.get_pinned_usage()),
            "memtables": 0,
            "table_readers": 0,
        }
        for db in list(self._dbs.values()):
            out["memtables"] += db.property_int_value("rocksdb.size-all-mem-tables") or 0
            out["table_readers"] += db.property_int_value("rocksdb.estimate-table-readers-mem") or 0
        return out

    def disk_bytes(self) -> int:
        """Bytes the store's databases take on disk."""
        root = Path(self.path)
        return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


class JourneyTable(faust.Table):
    """The ``journeys`` table: raw journey-id keys, binary states (``journey_state``), kept in
    a :class:`JourneyStore`. Recovery never lets a stale state replace a newer one."""

    def _new_store_by_url(self, url: Any) -> Any:
        return JourneyStore(
            url,
            self.app,
            self,
            table_name=self.name,
            key_type=self.key_type,
            key_serializer=self.key_serializer,
            value_serializer=self.value_serializer,
            value_type=self.value_type,
            loop=self.loop,
            options=self.options,
        )

    @property
    def store(self) -> JourneyStore:
        """The table's store."""
        store = self.data
        assert isinstance(store, JourneyStore)
        return store

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        """Apply changelog entries (recovery), keeping per journey the state that has seen the
        most: a worker paused past its session timeout may write its entries after the
        partition's new owner wrote newer ones."""
        by_partition: dict[int, list[tuple[int, bytes, bytes | None]]] = {}
        for event in batch:
            m = event.message
            by_partition.setdefault(m.partition, []).append((m.offset, m.key, m.value))
        for partition, entries in by_partition.items():
            self.store.apply_changelog(self.changelog_topic_name, partition, entries)


def _upgraded(value: bytes | None) -> bytes | None:
    """A changelog value in today's binary form: states written by workers before 0.2 were
    JSON objects with the event and message ids in full."""
    if value is None or not value.startswith(b"{"):
        return value
    return journey_state.encode(journey_state.from_json(json.loads(value)))


def declare_states(app: Any, name: str, partitions: int, help_: str) -> JourneyTable:
    """A state table on disk, keyed by raw bytes (a journey id, a customer pseudonym), its
    values a state's binary form: the ``journeys`` table of the ingest stage, the ``customers``
    table of the customers stage (both states begin with the fields recovery compares)."""
    table = app.tables.add(
        JourneyTable(
            app,
            name=name,
            default=None,
            beacon=app.tables.beacon,
            partitions=partitions,
            key_type=bytes,
            value_type=bytes,
            help=help_,
        )
    )
    # Raw bytes both ways: the key's bytes, and the state's encoding.
    table.key_serializer = "raw"
    table.value_serializer = "raw"
    return table


JOURNEYS_HELP = "Journey state: event ids seen, channels used, message send/read join."


def declare_journeys(app: Any, partitions: int) -> JourneyTable:
    """The ``journeys`` table: per journey id, de-duplication and join state."""
    return declare_states(app, "journeys", partitions, JOURNEYS_HELP)
