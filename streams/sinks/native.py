"""ClickHouse's Native format, written straight from a flush's blocks of columns.

An insert into ``ingest_facts`` names 55 columns, and a row of one kind fills a few of them:
laid end to end as whole columns (:meth:`streams.logic.facts.Facts.columns`), every default
was a Python value in a list, and clickhouse-connect's writer went through each of them
(3.0 us a record of the worker's 20, 2026-12-07). Here each block writes the columns it fills,
and a column a block does not fill is its default's bytes repeated, so the only values the
writer walks are the ones a flush decided. The bytes are what clickhouse-connect writes for
the same rows as one block (``tests/unit/sinks/test_native.py`` compares them).
"""

from __future__ import annotations

import array
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from clickhouse_connect.driverc.dataconv import write_str_col

# Fixed-width types as the ``array`` codes that hold them (little-endian, as Native is).
_CODES = {
    "UInt8": "B",
    "UInt16": "H",
    "UInt32": "I",
    "UInt64": "Q",
    "Int8": "b",
    "Int64": "q",
    "Float64": "d",
    "Bool": "B",
    "DateTime64(3, 'UTC')": "q",  # milliseconds since the epoch
}
_SWAP = sys.byteorder != "little"

Block = tuple[int, Mapping[str, Sequence[Any]]]


def _varint(n: int, out: bytearray) -> None:
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)


def _text(value: str, out: bytearray) -> None:
    raw = value.encode()
    _varint(len(raw), out)
    out += raw


def _fixed(code: str, values: Sequence[Any]) -> bytes:
    packed = array.array(code, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def native_header(table: str, columns: Iterable[str]) -> bytes:
    """``INSERT INTO table (columns) FORMAT Native`` and its newline: what the blocks follow."""
    quoted = ", ".join(f"`{name}`" for name in columns)
    return f"INSERT INTO {table} ({quoted}) FORMAT Native\n".encode()


def native_insert(
    table: str, types: Mapping[str, str], defaults: Mapping[str, Any], blocks: Sequence[Block]
) -> bytes:
    """:func:`native_header` and :func:`native_block` of ``blocks``. Raises TypeError naming
    the table and the column whose values could not be sent."""
    try:
        block = native_block(types, defaults, blocks)
    except TypeError as exc:
        raise TypeError(f"rows of {table} cannot be sent: {exc}") from None
    return native_header(table, types) + block


def native_block(
    types: Mapping[str, str], defaults: Mapping[str, Any], blocks: Sequence[Block]
) -> bytes:
    """The columns ``types`` names of every row of ``blocks`` (each ``(rows, {column:
    values})``; a column a block lacks holds ``defaults[column]``, a column ``types`` does not
    name is left out) as one Native block. Raises TypeError naming the column whose values
    could not be sent."""
    out = bytearray()
    _varint(len(types), out)
    _varint(sum(size for size, _ in blocks), out)
    for name, kind in types.items():
        _text(name, out)
        _text(kind, out)
        code = _CODES.get(kind)
        fill = defaults[name]
        try:
            if code is None:  # String: a varint length, then the bytes
                blank = bytearray()
                _write_strings([fill], blank)
                for size, block in blocks:
                    values = block.get(name)
                    if values is None:
                        out += blank * size
                    else:
                        _write_strings(values, out)
            else:
                filled = _fixed(code, [fill])
                for size, block in blocks:
                    values = block.get(name)
                    out += filled * size if values is None else _fixed(code, values)
        except (TypeError, AttributeError, OverflowError, ValueError, UnicodeError) as exc:
            raise TypeError(f"column {name} ({kind}): {type(exc).__name__}: {exc}") from None
    return bytes(out)


def _encoding(values: Sequence[Any]) -> str | None:
    """Text is sent as UTF-8; bytes (a rejected record's original) as they are."""
    return None if values and isinstance(values[0], (bytes, bytearray)) else "utf8"


def _write_strings(values: Sequence[Any], out: bytearray) -> None:
    """A String column's values onto ``out`` (clickhouse-connect's C writer)."""
    if write_str_col(values, False, _encoding(values), out):
        raise TypeError("a value is None")
