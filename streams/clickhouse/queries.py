"""Named queries: ``streams/sql/queries/<name>.sql``, one metric a file, shared by dashboard and
analysts.

A file starts with ``-- description: ...`` (one line); its parameters are the ClickHouse
``{name:Type}`` placeholders in the text, bound by the client, never formatted in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from streams.clickhouse.client import SQL_DIR
from streams.errors import JourneyError, first_line

if TYPE_CHECKING:
    import pandas as pd
    from clickhouse_connect.driver.client import Client

QUERIES_DIR = SQL_DIR / "queries"
# Statements an operator runs through a command (they write): same form, not named queries.
OPERATIONS_DIR = SQL_DIR / "operations"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):([^}]+)\}")


@dataclass(frozen=True)
class NamedQuery:
    """One query file: its name, description, parameters (name -> ClickHouse type) and SQL."""

    name: str
    description: str
    parameters: dict[str, str]
    sql: str
    path: Path


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
    return NamedQuery(path.stem, match.group(1).strip(), parameters, text, path)


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
