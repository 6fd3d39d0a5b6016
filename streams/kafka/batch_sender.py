"""A fast sender: aiokafka's batch API, driven from synchronous code.

kafka-python builds each record in Python and tops out around 40,000 small records/s here;
aiokafka builds record batches in its C extension. This sender keeps one open batch per
partition (partitioned by murmur2 of the key, exactly like the Java and kafka-python clients,
so a journey lands on the same partition whichever client published it), hands full batches
to an event loop in a background thread, and bounds the batches in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import struct
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from streams.errors import ServiceUnreachable
from streams.kafka.security import PLAINTEXT, KafkaSettings

MAX_IN_FLIGHT = 32
_M = 0x5BD1E995  # murmur2's mixing constant
KEYS_REMEMBERED = 100_000  # key -> partition, about 15 MB: a journey's events share a key
_WORDS: dict[int, struct.Struct] = {}  # a key's whole little-endian words, by their count


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of ``data`` (``org.apache.kafka.common.utils.Utils.murmur2``, seed
    0x9747b28c), as an unsigned 32-bit value. The same arithmetic as aiokafka's, without its
    masks after every step and reading the words in one call: it was a quarter of `journey
    publish`'s time."""
    length = len(data)
    h = 0x9747B28C ^ length
    n = length >> 2
    words = _WORDS.get(n)
    if words is None:
        words = _WORDS[n] = struct.Struct(f"<{n}I")
    for k in words.unpack_from(data):
        k = (k * _M) & 0xFFFFFFFF
        h = ((h * _M) & 0xFFFFFFFF) ^ (((k ^ (k >> 24)) * _M) & 0xFFFFFFFF)
    tail = n << 2
    extra = length & 3
    if extra == 3:
        h ^= data[tail + 2] << 16
    if extra >= 2:
        h ^= data[tail + 1] << 8
    if extra:
        h = ((h ^ data[tail]) * _M) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * _M) & 0xFFFFFFFF
    return h ^ (h >> 15)


class KeyPartitioner:
    """Kafka's default partitioner for keyed records (positive murmur2 modulo the partition
    count, an index into the sorted partitions), remembering the last keys it placed."""

    def __init__(self, partitions: Sequence[int]) -> None:
        self.partitions = sorted(partitions)
        self._known: dict[bytes, int] = {}

    def __call__(self, key: bytes) -> int:
        """The partition of ``key``."""
        partition = self._known.get(key)
        if partition is None:
            partition = self.partitions[(murmur2(key) & 0x7FFFFFFF) % len(self.partitions)]
            if len(self._known) >= KEYS_REMEMBERED:
                self._known.clear()
            self._known[key] = partition
        return partition


class BatchSender:
    """Same interface as ``publish.KafkaSender``: send, flush, close, failures."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        batch_bytes: int = 512 * 1024,
        linger_ms: int = 20,
        security: KafkaSettings = PLAINTEXT,
    ) -> None:
        self.topic = topic
        self.failures: list[tuple[int, str]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kafka-batches", daemon=True
        )
        self._thread.start()

        async def start() -> tuple[Any, list[int]]:
            producer = aiokafka_producer(
                bootstrap, security, max_batch_size=batch_bytes, linger_ms=linger_ms
            )
            await producer.start()
            partitions = sorted(await producer.partitions_for(topic))
            return producer, partitions

        try:
            self._producer, self._partitions = self._run(start(), timeout=30)
        except Exception as exc:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise ServiceUnreachable("Kafka", bootstrap, exc) from exc
        self._partition_of = KeyPartitioner(self._partitions)
        self._batches: dict[int, Any] = {}
        self._lines: dict[int, list[int]] = {}
        self._in_flight: list[concurrent.futures.Future[None]] = []

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def send(self, key: bytes, value: bytes, line: int = 0) -> None:
        """Append one record to its partition's batch; ship the batch when it is full."""
        partition = self._partition_of(key)
        batch = self._batches.get(partition)
        if batch is None:
            batch = self._batches[partition] = self._producer.create_batch()
            self._lines[partition] = []
        if batch.append(key=key, value=value, timestamp=None) is None:
            self._ship(partition)
            batch = self._batches[partition] = self._producer.create_batch()
            self._lines[partition] = []
            if batch.append(key=key, value=value, timestamp=None) is None:
                self.failures.append((line, "record larger than a batch"))
                return
        self._lines[partition].append(line)

    def _ship(self, partition: int) -> None:
        batch = self._batches.pop(partition)
        lines = self._lines.pop(partition)
        batch.close()

        async def send() -> None:
            try:
                delivery = await self._producer.send_batch(batch, self.topic, partition=partition)
                await delivery
            except Exception as exc:  # every record of the batch failed together
                self.failures.extend((line, str(exc) or type(exc).__name__) for line in lines)

        self._in_flight.append(asyncio.run_coroutine_threadsafe(send(), self._loop))
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            self._in_flight.pop(0).result()

    def flush(self, timeout: float | None = None) -> None:
        """Ship every open batch and wait until all are acknowledged (or failed)."""
        for partition in list(self._batches):
            self._ship(partition)
        for future in self._in_flight:
            future.result(timeout)
        self._in_flight.clear()

    def close(self) -> None:
        self.flush()
        self._run(self._producer.stop(), timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


def aiokafka_producer(bootstrap: str, security: KafkaSettings, **overrides: Any) -> Any:
    """An idempotent aiokafka producer (a retried batch is never stored twice), lz4."""
    from aiokafka import AIOKafkaProducer

    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": "lz4",
        "request_timeout_ms": 30_000,
        **security.client_options(),
    }
    config.update(overrides)
    return AIOKafkaProducer(**config)


@dataclass(frozen=True)
class Delivery:
    """One record batch sent to one partition: resolves when the broker has it."""

    topic: str
    partition: int
    records: int
    future: asyncio.Future[Any]

    async def first_offset(self) -> int:
        """Wait for the broker; the offset of the batch's first record."""
        metadata = await self.future
        return int(metadata.offset)


class LazyKafkaClient:
    """An aiokafka client made and started on first use, in the event loop that uses it, and
    kept until :meth:`stop`. Subclasses say how to make it (:meth:`_make`)."""

    def __init__(self, bootstrap: str, security: KafkaSettings = PLAINTEXT) -> None:
        self._bootstrap = bootstrap
        self._security = security
        self._client: Any = None

    def _make(self) -> Any:
        raise NotImplementedError

    async def _started(self) -> Any:
        if self._client is None:
            client = self._make()
            try:
                await client.start()
            except BaseException:
                await client.stop()  # what it opened before failing; the next call retries
                raise
            self._client = client
        return self._client

    async def start(self) -> None:
        """Connect (once)."""
        await self._started()

    async def stop(self) -> None:
        """Finish what is pending and disconnect (if connected)."""
        client, self._client = self._client, None
        if client is not None:
            await client.stop()


class BatchProducer(LazyKafkaClient):
    """Record batches from async code (the worker's changelog and dead letters): records given
    together go out as few whole batches, built by aiokafka's C extension."""

    def _make(self) -> Any:
        return aiokafka_producer(self._bootstrap, self._security, max_batch_size=1024 * 1024)

    async def send(
        self, topic: str, partition: int, records: Iterable[tuple[bytes, bytes | None]]
    ) -> list[Delivery]:
        """Queue ``records`` (key, value; a None value deletes the key in a compacted topic)
        for one partition, in order; return one delivery per batch."""
        producer = await self._started()
        deliveries: list[Delivery] = []
        batch = producer.create_batch()
        for key, value in records:
            if batch.append(key=key, value=value, timestamp=None) is None:
                deliveries.append(await self._ship(batch, topic, partition))
                batch = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(
                        f"a record of {len(value or b'')} bytes is larger than a batch"
                    )
        if batch.record_count():
            deliveries.append(await self._ship(batch, topic, partition))
        return deliveries

    async def _ship(self, batch: Any, topic: str, partition: int) -> Delivery:
        batch.close()
        future = await self._client.send_batch(batch, topic, partition=partition)
        return Delivery(topic, partition, batch.record_count(), future)

    async def partitions(self, topic: str) -> list[int]:
        """The partitions of ``topic``."""
        producer = await self._started()
        return sorted(await producer.partitions_for(topic))
