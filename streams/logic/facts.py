"""The rows of one insert into ``ingest_facts``, built column by column, every column by name.

A flush is one insert (docs/exactly-once.md). Its rows are of eight kinds (the ``fact``
column): ``interaction``, ``journey``, ``read_pair``, ``reply``, ``conversation``,
``dead_letter`` and ``progress``, and the second stage's ``customer`` counts; a
``journey``, ``read_pair``, ``reply`` or ``conversation`` row with ``sign`` -1 retracts one
counted before (a correction: a later-arriving event was the earlier one, or changed the
conversation's first response). Each kind fills the columns it has and leaves the others at
their defaults. Rows are never built as Python lists of 53 values: each kind adds a *block*, a
few named columns of equal length built by list comprehensions over the decided records. The
worker's insert writes the blocks as they are, in ClickHouse's Native format, a column a block
does not name as its default's bytes (``streams.sinks.native``); :meth:`Facts.columns` lays the
blocks end to end as whole columns, defaults filled in, for readers of the rows (the tests,
the benchmark's peer).

``FACT_TYPES`` is the one list of the table's columns (checked against the server by
``tests/integration/test_fact_columns.py``): names, and the type each is sent as.
``LowCardinality(String)`` columns are sent as ``String`` (ClickHouse converts them on insert),
which spares building a dictionary per column in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.decoder import Event

# Column → type as sent. Order is the table's (migrations 0002, 0005, 0006, 0009, 0010, 0014).
FACT_TYPES: dict[str, str] = {
    "fact": "String",
    "event_id": "String",
    "schema_version": "UInt8",
    "kind": "String",
    "occurred_at": "DateTime64(3, 'UTC')",
    "tenant": "String",
    "industry": "String",
    "use_case": "String",
    "channel": "String",
    "journey_id": "String",
    "customer_id": "String",
    "direction": "String",
    "duration_s": "Float64",
    "outcome": "String",
    "purpose": "String",
    "message_id": "String",
    "status": "String",
    "read_signal": "String",
    "handed_off": "Bool",
    "kafka_topic": "String",
    "kafka_partition": "UInt16",
    "kafka_offset": "UInt64",
    "kafka_timestamp": "DateTime64(3, 'UTC')",
    "late": "UInt8",
    "duration_ms": "UInt64",
    "bucket_s": "UInt32",
    "journeys": "UInt8",
    "journey_channels": "UInt8",
    "reason": "String",
    "code": "String",
    "original": "String",
    "original_size": "UInt32",
    "original_sha256": "String",
    "watermark": "DateTime64(3, 'UTC')",
    "events": "UInt32",
    "dead": "UInt32",
    "duplicates": "UInt32",
    "late_events": "UInt32",
    "lag": "Int64",
    "worker": "String",
    "epoch": "UInt64",  # the writer's lease on the partition (migration 0005)
    # +1 counts a row, -1 retracts one counted before (a correction, migration 0009)
    "sign": "Int8",
    # contract 1.1's fields (migration 0010)
    "conversation_id": "String",
    "contact_reason": "String",
    "agent_requested": "Bool",
    "exit_reason": "String",
    "reply_enabled": "Bool",
    "error_code": "String",
    "handoff_requested": "Bool",
    "resolved": "Bool",
    "in_reply_to": "String",
    # the second stage's counts (migration 0014, streams/logic/customers.py)
    "measure": "String",
    "key_id": "String",
}
FACT_COLUMNS: tuple[str, ...] = tuple(FACT_TYPES)
# Times are sent as milliseconds since the epoch (DateTime64(3) ticks): no datetime objects.
_DEFAULTS: dict[str, Any] = {"String": "", "Float64": 0.0, "Bool": False}
# A String column is sent either as text or as bytes, never a mix: ``original`` holds the
# bytes of rejected records.
_COLUMN_DEFAULTS: dict[str, Any] = {"original": b"", "sign": 1}


def default(column: str) -> Any:
    """The value a row that does not fill ``column`` holds."""
    if column in _COLUMN_DEFAULTS:
        return _COLUMN_DEFAULTS[column]
    return _DEFAULTS.get(FACT_TYPES[column], 0)


FACT_DEFAULTS: dict[str, Any] = {column: default(column) for column in FACT_TYPES}


class Facts:
    """The rows of one insert, as blocks of named columns (one block per kind of fact, or
    per partition for progress rows)."""

    __slots__ = ("_blocks", "rows")

    def __init__(self) -> None:
        self._blocks: list[tuple[int, dict[str, Sequence[Any]]]] = []
        self.rows = 0

    def add(self, fact: str, size: int, columns: dict[str, Sequence[Any]]) -> None:
        """Add ``size`` rows of kind ``fact``; every column given must hold ``size`` values
        and be one of ``FACT_TYPES``."""
        if not size:
            return
        for name, values in columns.items():
            if name not in FACT_TYPES:
                raise KeyError(f"ingest_facts has no column {name!r}")
            if len(values) != size:
                raise ValueError(f"column {name!r} has {len(values)} values for {size} rows")
        self._blocks.append((size, {"fact": [fact] * size, **columns}))
        self.rows += size

    @property
    def blocks(self) -> list[tuple[int, dict[str, Sequence[Any]]]]:
        """The blocks, in order: ``(rows, {column: values})`` (never change them)."""
        return self._blocks

    def with_column(
        self, name: str, values_of: Callable[[int, dict[str, Sequence[Any]]], Sequence[Any]]
    ) -> Facts:
        """Another Facts whose every block has ``name`` set to ``values_of(rows, block)``."""
        if name not in FACT_TYPES:
            raise KeyError(f"ingest_facts has no column {name!r}")
        other = Facts()
        other._blocks = [
            (size, {**block, name: values_of(size, block)}) for size, block in self._blocks
        ]
        other.rows = self.rows
        return other

    def copy(self) -> Facts:
        """Another Facts with the same blocks (blocks are never changed once added)."""
        other = Facts()
        other._blocks = list(self._blocks)
        other.rows = self.rows
        return other

    def within(self, column: str, low: int, high: int) -> Facts:
        """Another Facts with the rows whose ``column`` lies in [low, high) (``journey
        rebuild``: the facts of its window); a block without the column keeps no row."""
        other = Facts()
        for size, block in self._blocks:
            values = block.get(column)
            if values is None:
                continue
            keep = [i for i, v in enumerate(values) if low <= v < high]
            if len(keep) == size:
                other._blocks.append((size, block))
            elif keep:
                other._blocks.append(
                    (len(keep), {n: [c[i] for i in keep] for n, c in block.items()})
                )
            other.rows += len(keep)
        return other

    def column(self, name: str) -> list[Any]:
        """One whole column, every block's values end to end."""
        out: list[Any] = []
        fill = default(name)
        for size, block in self._blocks:
            values = block.get(name)
            if values is None:
                out.extend([fill] * size)
            else:
                out.extend(values)
        return out

    def columns(self) -> list[list[Any]]:
        """Every column of the table, in ``FACT_COLUMNS`` order."""
        return [self.column(name) for name in FACT_COLUMNS]

    def facts(self, kind: str) -> list[dict[str, Any]]:
        """The rows of one kind as dicts (for tests and reports, not for the hot path)."""
        names = FACT_COLUMNS
        rows: list[dict[str, Any]] = []
        for size, block in self._blocks:
            if block["fact"][0] != kind:
                continue
            for i in range(size):
                rows.append({n: block[n][i] if n in block else default(n) for n in names})
        return rows


def event_columns(events: Sequence[Event]) -> dict[str, list[Any]]:
    """The contract's fields of decoded ``events`` as fact columns (a field an event's kind
    lacks, or an optional one it left out, is empty)."""
    return {
        "event_id": [e.event_id for e in events],
        "kind": [e.kind for e in events],
        "tenant": [e.tenant for e in events],
        "industry": [e.industry for e in events],
        "use_case": [e.use_case for e in events],
        "channel": [e.channel for e in events],
        "journey_id": [e.journey_id for e in events],
        "customer_id": [e.customer_id for e in events],
        "direction": [e.direction for e in events],
        "duration_s": [e.duration_s or 0.0 for e in events],
        "outcome": [e.outcome or "" for e in events],
        "purpose": [e.purpose or "" for e in events],
        "message_id": [e.message_id or "" for e in events],
        "status": [e.status or "" for e in events],
        "read_signal": [e.read_signal or "" for e in events],
        "handed_off": [bool(e.handed_off) for e in events],
        # 1.1: absent (None, or a kind without the field) is '' or false
        "conversation_id": [e.conversation_id or "" for e in events],
        "contact_reason": [e.contact_reason or "" for e in events],
        "agent_requested": [bool(e.agent_requested) for e in events],
        "exit_reason": [e.exit_reason or "" for e in events],
        "reply_enabled": [bool(e.reply_enabled) for e in events],
        "error_code": [e.error_code or "" for e in events],
        "handoff_requested": [bool(e.handoff_requested) for e in events],
        "resolved": [bool(e.resolved) for e in events],
        "in_reply_to": [e.in_reply_to or "" for e in events],
    }
