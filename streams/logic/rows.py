"""Column lists of ClickHouse tables that come from the event contract."""

from __future__ import annotations

from streams.events import raw_columns

INTERACTION_COLUMNS: tuple[str, ...] = (
    *(name for name, _ in raw_columns()),
    "kafka_partition",
    "kafka_offset",
)
