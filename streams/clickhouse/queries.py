"""Named queries: ``streams/sql/queries/<name>.sql``, one metric a file, shared by dashboard and
analysts.

A file starts with ``-- description: ...`` (one line); its parameters are the ClickHouse
``{name:Type}`` placeholders in the text, bound by the client, never formatted in. A figure
drawn from interactions says which kinds it counts on the next line, ``-- kinds: ivr_call``
(or ``all``, or ``all but message_receipt``): the dashboard tells, under each figure, how
many of those arrived late and whether they stopped arriving.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from streams.clickhouse.client import SQL_DIR
from streams.errors import JourneyError, first_line
from streams.events import KIND_FIELDS

if TYPE_CHECKING:
    import pandas as pd
    from clickhouse_connect.driver.client import Client

QUERIES_DIR = SQL_DIR / "queries"
# Statements an operator runs through a command (they write): same form, not named queries.
OPERATIONS_DIR = SQL_DIR / "operations"
# The read-only checks ``journey verify`` runs on a range of offsets: same form either.
VERIFY_DIR = SQL_DIR / "verify"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):([^}]+)\}")


@dataclass(frozen=True)
class NamedQuery:
    """One query file: its name, description, parameters (name -> ClickHouse type) and SQL."""

    name: str
    description: str
    parameters: dict[str, str]
    sql: str
    path: Path
    # The interaction kinds the figure counts (``-- kinds:``); empty: it counts none, or does
    # not say (operations' tables: leases, progress, dead letters).
    kinds: tuple[str, ...] = ()


def is_name(text: str) -> bool:
    """Whether ``text`` looks like a query name rather than SQL."""
    return re.fullmatch(r"[a-z0-9_]+", text) is not None


def load(name: str, directory: Path = QUERIES_DIR) -> NamedQuery:
    """Load ``<directory>/<name>.sql``; an unknown name is an error that lists the known ones."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise JourneyError(f"query name {name!r} must be lower_snake_case")
    path = directory / f"{name}.sql"
    if not path.exists():
        known = ", ".join(q.name for q in load_all(directory))
        raise JourneyError(f"no named query {name!r}; known: {known}")
    return _parse(path)


def load_all(directory: Path = QUERIES_DIR) -> list[NamedQuery]:
    """Every named query, by name."""
    return [_parse(p) for p in sorted(directory.glob("*.sql"))]


def _parse(path: Path) -> NamedQuery:
    text = path.read_text()
    match = re.search(r"^--\s*description:\s*(.+)$", text, re.MULTILINE)
    if match is None:
        raise JourneyError(f"{path}: a named query starts with '-- description: ...'")
    parameters: dict[str, str] = {}
    for pname, ptype in PLACEHOLDER.findall(text):
        if parameters.setdefault(pname, ptype.strip()) != ptype.strip():
            raise JourneyError(f"{path}: parameter {pname} has two types")
    kinds = re.search(r"^--\s*kinds:\s*(.+)$", text, re.MULTILINE)
    return NamedQuery(
        path.stem,
        match.group(1).strip(),
        parameters,
        text,
        path,
        parse_kinds(kinds.group(1), path) if kinds else (),
    )


def parse_kinds(text: str, where: Path | str) -> tuple[str, ...]:
    """The kinds a ``-- kinds:`` line names: a list (``ivr_call, notification_call``),
    ``all``, or ``all but <kinds>``, in the contract's order; an unknown kind is an error
    naming ``where``."""
    text = text.strip()
    every = tuple(KIND_FIELDS)
    if text == "all":
        return every
    but = text.startswith("all but ")
    named = [k.strip() for k in text.removeprefix("all but ").split(",") if k.strip()]
    unknown = [k for k in named if k not in KIND_FIELDS]
    if unknown or not named:
        raise JourneyError(
            f"{where}: '-- kinds: {text}' names {unknown or 'no kind'}; kinds are "
            f"{', '.join(every)}, 'all' or 'all but <kinds>'"
        )
    return tuple(k for k in every if (k in named) != but)


def frames(client: Client) -> Callable[[str, dict[str, object]], pd.DataFrame]:
    """A runner of named queries through ``client``, each answer a DataFrame (what the
    headlines, the digest and the alert check read); a failure is one line naming the query."""

    def run(name: str, params: dict[str, object]) -> pd.DataFrame:
        try:
            frame: pd.DataFrame = client.query_df(load(name).sql, parameters=params)
        except Exception as exc:
            raise JourneyError(f"{name}: {first_line(exc)}") from None
        return frame

    return run
