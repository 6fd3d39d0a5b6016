"""Records the source topic deleted before any worker applied them (``ingest_losses``,
migration 0008): what the worker, ``journey status``, ``journey losses`` and the dashboard
read, and the operator's acknowledgement."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries

LOSSES = queries.load("lost_offsets")
ACKNOWLEDGE = queries.load("acknowledge_losses", queries.OPERATIONS_DIR)


def pending(rows: Iterable[Sequence[Any]]) -> dict[tuple[str, int], int]:
    """Unacknowledged lost records per (topic, partition), from the rows of ``lost_offsets``."""
    out: dict[tuple[str, int], int] = {}
    for topic, partition, _first, _last, lost, _after, _detected, _worker, acknowledged in rows:
        if not acknowledged:
            key = (str(topic), int(partition))
            out[key] = out.get(key, 0) + int(lost)
    return out


def read(client: Client) -> list[tuple[Any, ...]]:
    """Every recorded loss (``lost_offsets``), oldest partition and offset first."""
    return [tuple(row) for row in client.query(LOSSES.sql).result_rows]


def acknowledge(client: Client) -> int:
    """Mark every unacknowledged loss as seen; return how many gaps that was."""
    before = sum(1 for row in read(client) if not row[-1])
    client.command(ACKNOWLEDGE.sql)
    return before
