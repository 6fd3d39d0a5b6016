"""Rows for ClickHouse tables, built from validated events (pure)."""

from __future__ import annotations

from typing import Any

from streams.events import Interaction, raw_columns
from streams.logic.ingest import Accepted

INTERACTION_COLUMNS: tuple[str, ...] = (
    *(name for name, _ in raw_columns()),
    "kafka_partition",
    "kafka_offset",
)
_CONTRACT_NAMES = tuple(name for name, _ in raw_columns())


def interaction_row(item: Accepted) -> list[Any]:
    """One row of the raw ``interactions`` table, in ``INTERACTION_COLUMNS`` order."""
    event: Interaction = item.event
    row = [getattr(event, name) for name in _CONTRACT_NAMES]
    row.append(item.record.partition)
    row.append(item.record.offset)
    return row
