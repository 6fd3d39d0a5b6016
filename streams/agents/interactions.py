"""The ingest agent: Kafka records in, validated rows into ClickHouse, bad ones set aside.

Thin on purpose: every decision is a pure function in ``streams.logic``; the agent moves
batches between Kafka, those functions and the sink. Records are acknowledged only after
the batch is in ClickHouse (``take_events`` acks when the loop asks for the next batch).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterable
from typing import Any

from streams.logic.ingest import Rejected, SourceRecord, split, unapplied
from streams.logic.rows import INTERACTION_COLUMNS, interaction_row
from streams.sinks.clickhouse import Batch, ClickHouseSink, batch_token
from streams.topics import Topics

log = logging.getLogger(__name__)

BATCH_MAX = 10_000
BATCH_WITHIN_S = 1.0
HIGH_WATER_SQL = "SELECT kafka_partition, max(kafka_offset) FROM interactions GROUP BY 1"


class HighWater:
    """Per partition, the last offset ClickHouse already holds; reloaded after a rebalance."""

    def __init__(self) -> None:
        self.offsets: dict[int, int] = {}
        self.stale = True

    async def current(self, sink: ClickHouseSink) -> dict[int, int]:
        if self.stale:
            rows = await asyncio.to_thread(sink.query_rows, HIGH_WATER_SQL)
            self.offsets = {int(p): int(o) for p, o in rows}
            self.stale = False
        return self.offsets


def to_source(event: Any) -> SourceRecord:
    """The parts of a Faust event the pure logic needs."""
    message = event.message
    return SourceRecord(
        message.topic,
        message.partition,
        message.offset,
        int(message.timestamp * 1000),
        message.value or b"",
    )


def dead_letter(rejected: Rejected) -> bytes:
    """The dead-letter value: the reason, where it came from, and the original bytes."""
    record = rejected.record
    return json.dumps(
        {
            "reason": str(rejected.error),
            "code": rejected.error.code,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "original_b64": base64.b64encode(record.value).decode(),
        }
    ).encode()


def offset_ranges(records: Iterable[SourceRecord]) -> dict[int, tuple[int, int]]:
    """First and last offset per partition in a batch."""
    ranges: dict[int, tuple[int, int]] = {}
    for r in records:
        lo, hi = ranges.get(r.partition, (r.offset, r.offset))
        ranges[r.partition] = (min(lo, r.offset), max(hi, r.offset))
    return ranges


def register(app: Any, topics: Topics, sink: ClickHouseSink) -> Any:
    """Attach the ingest agent to ``app``; return it."""
    high_water = HighWater()

    @app.on_partitions_assigned.connect
    async def _assigned(*_: Any, **__: Any) -> None:
        high_water.stale = True

    @app.agent(topics.interactions, name="ingest")
    async def ingest(stream: Any) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            records = unapplied((to_source(e) for e in events), await high_water.current(sink))
            if not records:
                continue
            accepted, rejected = split(records)
            for bad in rejected:
                await topics.dead_letters.send(
                    key=str(bad.record.partition).encode(), value=dead_letter(bad)
                )
            if accepted:
                await sink.write(
                    Batch(
                        table="interactions",
                        columns=INTERACTION_COLUMNS,
                        rows=[interaction_row(a) for a in accepted],
                        token=batch_token(records[0].topic, offset_ranges(records)),
                    )
                )
                last = high_water.offsets
                for a in accepted:
                    last[a.record.partition] = max(
                        last.get(a.record.partition, -1), a.record.offset
                    )

    return ingest
