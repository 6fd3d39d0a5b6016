"""The materialised views, each declared once in ``streams/sql/views/``, and their installation.

Every row the worker writes goes into ``ingest_facts`` (one insert per flush, stored
nowhere); ``mv_fenced_facts`` lets through the rows written under the partition's newest
lease into ``fenced_facts``; every other view reads ``fenced_facts`` and writes one table.
So the lease fence is applied in one place, and a view body says only what its table holds.

A file ``streams/sql/views/NAME.sql`` declares the view ``mv_NAME`` writing table ``NAME``:

- comment lines first: what the table holds, then two headers
  - ``-- grains: hour, day`` (optional): one view per grain, writing ``NAME_hourly`` and
    ``NAME_daily``; ``{period}`` in the body stands for the grain's time column
    (``toStartOfHour(occurred_at) AS hour``, ``toDate(occurred_at) AS day``);
  - ``-- verify: ...`` (required): how ``journey verify`` checks the table against the source
    topic: ``sums`` (the table sums its measures over its sorting key), ``rows by COLUMN, ...``
    (rows counted by those columns) or ``no, REASON``;
- statements before the last (optional) create the table, for a table no migration created:
  ``{table}``, ``{grain}`` (``hour``) and ``{grain_type}`` (``DateTime('UTC')``) are filled
  in per grain. A change to a table that exists is a migration, never an edit here;
- the last statement is the view's ``SELECT``, reading ``fenced_facts``.

``journey migrate`` installs the views after the migrations: a view whose definition changed
(or that is missing) is dropped and created again, and its checksum recorded in
``schema_views``; a view whose file is gone is dropped. Like a migration, an install runs with
the workers stopped (a view being re-created misses what is inserted meanwhile).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from streams.clickhouse.client import SQL_DIR
from streams.clickhouse.statements import split_statements
from streams.errors import JourneyError, first_line

VIEWS_DIR = SQL_DIR / "views"
FENCED = "fenced_facts"  # what every view but the fence reads
FILE_NAME = re.compile(r"^[a-z][a-z0-9_]*\.sql$")
PLACEHOLDER = re.compile(r"\{(\w+)\}")

SCHEMA_VIEWS_DDL = """
CREATE TABLE IF NOT EXISTS schema_views
(
    view String,
    checksum String,
    installed_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
-- A few rows per install; the newest row per view says what is installed ('' = dropped).
ORDER BY (view, installed_at)
"""


class ViewError(JourneyError):
    """A view file is malformed, or installing a view failed."""


@dataclass(frozen=True)
class Grain:
    """A time grain a rollup is kept at."""

    column: str  # the table's time column
    suffix: str  # of the table's name
    period: str  # the SELECT expression of the column
    type: str  # the column's type


GRAINS = {
    "hour": Grain("hour", "hourly", "toStartOfHour(occurred_at) AS hour", "DateTime('UTC')"),
    "day": Grain("day", "daily", "toDate(occurred_at) AS day", "Date"),
}


@dataclass(frozen=True)
class Check:
    """How ``journey verify`` compares a view's table with the truth: ``sums`` over the
    table's sorting key, ``rows`` counted by ``columns``, or not at all (``no``, ``reason``)."""

    mode: str
    columns: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class View:
    """One materialised view: ``mv_<table>``, writing ``table`` from ``select``."""

    table: str
    select: str
    check: Check
    table_ddl: tuple[str, ...]  # statements creating ``table`` (a table no migration made)
    source: Path

    @property
    def name(self) -> str:
        return f"mv_{self.table}"

    @property
    def create(self) -> str:
        """The statement creating the view."""
        return (
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {self.name} TO {self.table} AS\n{self.select}"
        )

    @property
    def checksum(self) -> str:
        """Of everything that makes the view: a change to any of it re-installs it."""
        return hashlib.sha256("\n;\n".join((*self.table_ddl, self.create)).encode()).hexdigest()

    @property
    def statements(self) -> list[str]:
        """What installs the view: its table's statements, then drop and create."""
        return [*self.table_ddl, f"DROP VIEW IF EXISTS {self.name}", self.create]

    def select_from(self, table: str) -> str:
        """The view's SELECT reading ``table`` instead of ``fenced_facts`` (verify's truth)."""
        return re.sub(rf"\b{FENCED}\b", table, self.select)


def _headers(text: str) -> dict[str, str]:
    """``-- name: value`` lines of the leading comment."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            if line.strip():
                break
            continue
        name, colon, value = line[2:].strip().partition(":")
        if colon and re.fullmatch(r"[a-z]+", name.strip()):
            out[name.strip()] = value.strip()
    return out


def _check(path: Path, value: str | None) -> Check:
    if value is None:
        raise ViewError(f"{path.name}: no '-- verify:' line (sums, rows by COLUMN, or no, REASON)")
    if value == "sums":
        return Check("sums")
    if value.startswith("rows by "):
        columns = tuple(c.strip() for c in value[len("rows by ") :].split(","))
        if all(re.fullmatch(r"[a-z_]+", c) for c in columns):
            return Check("rows", columns)
    if value.startswith("no, ") and value[4:].strip():
        return Check("no", reason=value[4:].strip())
    raise ViewError(f"{path.name}: '-- verify: {value}' is not sums, rows by COLUMN, or no, REASON")


def _filled(path: Path, sql: str, values: dict[str, str]) -> str:
    """``sql`` with its placeholders filled; an unknown one is an error naming the file."""

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise ViewError(f"{path.name}: no value for {match.group(0)} here")
        return values[match.group(1)]

    return PLACEHOLDER.sub(fill, sql)


def parse(path: Path) -> list[View]:
    """The views one file declares (one per grain, or one)."""
    if not FILE_NAME.match(path.name):
        raise ViewError(f"{path}: view files are named after their table: NAME.sql")
    text = path.read_text()
    headers = _headers(text)
    check = _check(path, headers.get("verify"))
    statements = split_statements(text)
    if not statements:
        raise ViewError(f"{path.name}: no SELECT")
    *ddl, select = statements
    select = "\n".join(ln for ln in select.splitlines() if not ln.lstrip().startswith("--"))
    if not re.match(r"\s*SELECT\b", select):
        raise ViewError(f"{path.name}: the last statement must be the view's SELECT")
    stem = path.name.removesuffix(".sql")
    if stem != FENCED and not re.search(rf"\bFROM\s+{FENCED}\b", select):
        raise ViewError(f"{path.name}: a view reads {FENCED} (the fenced rows), not {select!r:.60}")
    grains = [g.strip() for g in headers["grains"].split(",")] if "grains" in headers else []
    for grain in grains:
        if grain not in GRAINS:
            raise ViewError(f"{path.name}: unknown grain {grain!r} (known: {', '.join(GRAINS)})")
    # One view per grain, or one view writing ``stem`` (only ``{table}`` to fill).
    variants = [
        {"table": f"{stem}_{g.suffix}", "grain": g.column, "grain_type": g.type, "period": g.period}
        for g in (GRAINS[grain] for grain in grains)
    ] or [{"table": stem}]
    return [
        View(
            values["table"],
            _filled(path, select, values),
            check,
            tuple(_filled(path, s, values) for s in ddl),
            path,
        )
        for values in variants
    ]


def load(directory: Path = VIEWS_DIR) -> list[View]:
    """Every view declared in ``directory``, the fence first."""
    views = [v for path in sorted(directory.glob("*.sql")) for v in parse(path)]
    tables = [v.table for v in views]
    if duplicated := {t for t in tables if tables.count(t) > 1}:
        raise ViewError(f"more than one view writes {', '.join(sorted(duplicated))}")
    return sorted(views, key=lambda v: v.table != FENCED)


def installed(client: Client) -> dict[str, str]:
    """View name -> checksum of what ``journey migrate`` last installed ('' = dropped)."""
    rows = client.query(
        "SELECT view, argMax(checksum, installed_at) FROM schema_views GROUP BY view"
    ).result_rows
    return {str(v): str(c) for v, c in rows}


def install(
    client: Client,
    views: list[View],
    rewrite: Callable[[str], list[str]] = lambda statement: [statement],
) -> list[str]:
    """Create the tables the view files declare, (re)install every view whose definition
    changed or that is missing, drop the views whose files are gone; return the views
    installed or dropped. ``rewrite`` turns a statement into its cluster form."""

    def run(statement: str, what: str) -> None:
        for out in rewrite(statement):
            try:
                client.command(out)
            except Exception as exc:
                raise ViewError(f"{what}: {first_line(exc)}") from exc

    for statement in rewrite(SCHEMA_VIEWS_DDL):
        client.command(statement)
    done = installed(client)
    existing = {
        str(row[0])
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()"
            " AND engine = 'MaterializedView'"
        ).result_rows
    }
    changed: list[str] = []
    for view in views:
        *tables, drop, create = view.statements
        for statement in tables:
            run(statement, f"{view.source.name}, the table {view.table}")
        if done.get(view.name) == view.checksum and view.name in existing:
            continue
        run(drop, f"{view.source.name}, dropping {view.name}")
        run(create, f"{view.source.name}, creating {view.name}")
        client.insert(
            "schema_views", [[view.name, view.checksum]], column_names=["view", "checksum"]
        )
        changed.append(view.name)
    wanted = {v.name for v in views}
    for name, checksum in sorted(done.items()):
        if checksum and name not in wanted:  # its file is gone
            run(f"DROP VIEW IF EXISTS {name}", f"dropping {name}")
            _record(client, name, "")
            changed.append(name)
    return changed


def _record(client: Client, view: str, checksum: str) -> None:
    client.insert("schema_views", [[view, checksum]], column_names=["view", "checksum"])
