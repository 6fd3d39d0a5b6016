"""Reading ranges of a topic outside any consumer group: the worker's catch-up of the journeys
changelog after it takes a partition's lease (``JourneyStates.catch_up``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streams.kafka.batch_sender import LazyKafkaClient

READ_TIMEOUT_S = 60.0  # a range the broker reported must arrive within this


class TopicReader(LazyKafkaClient):
    """One aiokafka consumer with no group, made on first use and kept: end offsets and ranges
    of any partition, nothing committed."""

    def _make(self) -> Any:
        from aiokafka import AIOKafkaConsumer

        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # a start compaction or retention removed
            **self._security.client_options(),
        )

    async def ends(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Each partition's end offset (the next offset to be written)."""
        from aiokafka import TopicPartition

        if not partitions:
            return {}
        consumer = await self._started()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: int(offset) for tp, offset in ends.items()}

    async def read(
        self, topic: str, partition: int, start: int, end: int
    ) -> list[tuple[int, bytes, bytes | None]]:
        """The records (offset, key, value) of one partition from ``start`` up to, not
        including, ``end``; fewer where compaction removed some."""
        import asyncio

        from aiokafka import TopicPartition

        consumer = await self._started()
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        out: list[tuple[int, bytes, bytes | None]] = []
        async with asyncio.timeout(READ_TIMEOUT_S):
            while await consumer.position(tp) < end:
                fetched = await consumer.getmany(tp, timeout_ms=1000)
                for record in fetched.get(tp, []):
                    if record.offset < end:
                        out.append((record.offset, record.key, record.value))
        return out
