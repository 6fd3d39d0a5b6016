"""``journey sql``: the named queries (and any read-only SQL) for analysts, from the shell.

The same files the dashboard runs (``streams/sql/queries``), with parameters bound by ClickHouse
(``--param industry=telecom``), never formatted into the text. Output as an aligned table,
CSV or JSON Lines.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from streams.clickhouse import queries
from streams.errors import JourneyError

FORMATS = ("table", "csv", "json")


def parse_params(pairs: Sequence[str], declared: dict[str, str] | None) -> dict[str, str]:
    """``name=value`` pairs; with a named query, every name must be one it declares."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise JourneyError(f"--param {pair!r}: expected name=value")
        if declared is not None and name not in declared:
            known = ", ".join(f"{k} ({t})" for k, t in declared.items()) or "none"
            raise JourneyError(f"--param {name}: the query has no such parameter; it takes {known}")
        out[name] = value
    if declared is not None:
        missing = [k for k in declared if k not in out]
        if missing:
            wanted = ", ".join(f"{k} ({declared[k]})" for k in missing)
            raise JourneyError(f"missing --param for {wanted}")
    return out


def resolve(target: str | None, file: Path | None) -> tuple[str, dict[str, str] | None, str]:
    """The SQL to run, its declared parameters (None for ad-hoc SQL) and a label."""
    if file is not None:
        if not file.is_file():
            raise JourneyError(f"no such file: {file}")
        text = file.read_text()
        return text, None, str(file)
    if target is None:
        raise JourneyError("give a query name, a quoted SQL statement, --file or --list")
    if queries.is_name(target):
        query = queries.load(target)
        return query.sql, query.parameters, query.name
    return target, None, "sql"


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """Rows as an aligned table, CSV (with a header) or JSON Lines.

    Any result renders: a statement whose rows do not match its column names (``KILL QUERY``
    answers so) gets a column per value, and values JSON has no type for are written as text.
    """
    columns = _fitting_columns(columns, rows)
    rows = [[*row, *[None] * (len(columns) - len(row))] for row in rows]
    if fmt == "json":
        return "".join(
            json.dumps(dict(zip(columns, map(_plain, row), strict=True)), default=str) + "\n"
            for row in rows
        )
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in row] for row in rows])
        return buffer.getvalue()
    cells = [list(columns)] + [[_text(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n({len(rows)} row{'s' if len(rows) != 1 else ''})\n"


def _fitting_columns(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The column names, extended (``column_5``...) to the widest row."""
    width = max([len(columns), *(len(row) for row in rows)])
    return [*columns, *(f"column_{i + 1}" for i in range(len(columns), width))]


def listing() -> str:
    """Every named query: name, parameters, description."""
    out = []
    for q in queries.load_all():
        params = ", ".join(f"{k}:{t}" for k, t in q.parameters.items()) or "no parameters"
        out.append(f"{q.name}\n    {q.description}\n    parameters: {params}")
    return "\n".join(out) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _text(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)
