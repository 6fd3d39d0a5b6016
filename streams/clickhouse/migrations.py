"""Schema migrations: ``streams/sql/migrations/NNNN_verb_object.sql`` applied in order, recorded
once.

An applied file is never edited: its checksum is recorded, and a changed checksum stops
``journey migrate`` with an error naming the file. A change to the schema is a new file.
Every statement is idempotent (``IF NOT EXISTS``), so a migration interrupted half-way can
simply run again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from streams.clickhouse.client import SQL_DIR, connect, parse_url
from streams.clickhouse.statements import split_statements
from streams.clickhouse.url import IDENTIFIER
from streams.clickhouse.views import VIEWS_DIR
from streams.clickhouse.views import install as install_views
from streams.clickhouse.views import load as load_views
from streams.errors import JourneyError, first_line

MIGRATIONS_DIR = SQL_DIR / "migrations"
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
-- Tiny table read whole; ordered by version so the history reads in order.
ORDER BY version
"""


class MigrationError(JourneyError):
    """A migration file is malformed, was edited after being applied, or failed."""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def statements(self) -> list[str]:
        return split_statements(self.sql)


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file, in version order; duplicate or malformed names are errors."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration names are NNNN_verb_object.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"{path}: version {version:04d} already used by {found[version].path.name}"
            )
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


def applied_versions(client: Client) -> dict[int, str]:
    """Version -> checksum of every applied migration."""
    rows = client.query("SELECT version, checksum FROM schema_migrations ORDER BY version")
    return {int(v): str(c) for v, c in rows.result_rows}


def planned(
    directory: Path = MIGRATIONS_DIR,
    cluster: str = "",
    replicated: bool = True,
    tables: set[str] | None = None,
) -> list[tuple[Migration, list[str]]]:
    """Every migration with the statements that apply it: as written for a single server, or
    rewritten for ``cluster`` (streams/clickhouse/cluster.py). The rewrite of a later file knows
    the tables created by every earlier one, applied or not (``tables`` collects them)."""
    from streams.clickhouse.cluster import rewrite

    tables = set() if tables is None else tables
    plan: list[tuple[Migration, list[str]]] = []
    for migration in discover(directory):
        statements = migration.statements()
        if cluster:
            statements = [
                out for s in statements for out in rewrite(s, cluster, tables, replicated)
            ]
        plan.append((migration, statements))
    return plan


def migrate(
    url: str,
    directory: Path = MIGRATIONS_DIR,
    cluster: str = "",
    replicated: bool = True,
    views_directory: Path = VIEWS_DIR,
) -> list[Migration]:
    """Create the database if needed, apply pending migrations, then install the views whose
    definitions (``streams/sql/views/``, streams/clickhouse/views.py) changed; return the migrations
    applied.

    ``cluster`` (``JOURNEY_CLICKHOUSE_CLUSTER``) names a ClickHouse cluster: the database is
    then Replicated and every migration is applied in its cluster form, without ON CLUSTER
    (``replicated=False``: sharded only, see :func:`streams.clickhouse.cluster.rewrite`).
    """
    from streams.clickhouse.cluster import create_database, rewrite

    target = parse_url(url)
    if not IDENTIFIER.fullmatch(target.database):
        raise MigrationError(f"database name {target.database!r} is not a plain identifier")
    tables: set[str] = set()
    # A statement with no cluster form fails here, before any DDL.
    plan = planned(directory, cluster, replicated, tables)
    views = load_views(views_directory)
    bootstrap = connect(url, database="")
    # An identifier cannot be a bound parameter; it was checked against IDENTIFIER above.
    if cluster:
        bootstrap.command(create_database(target.database, cluster, replicated))
    else:
        bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{target.database}`")
    bootstrap.close()

    # On a cluster, an insert through a Distributed table returns once the shard holds it.
    client = connect(url, distributed_foreground_insert=1) if cluster else connect(url)

    def cluster_form(statement: str) -> list[str]:
        return rewrite(statement, cluster, tables, replicated) if cluster else [statement]

    try:
        for statement in cluster_form(SCHEMA_MIGRATIONS_DDL):
            client.command(statement)
        done = applied_versions(client)
        applied: list[Migration] = []
        for migration, statements in plan:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"{migration.path.name} was edited after it was applied; applied "
                        "migrations are never edited: restore it and add a new migration"
                    )
                continue
            for number, statement in enumerate(statements, start=1):
                try:
                    client.command(statement)
                except Exception as exc:
                    raise MigrationError(
                        f"{migration.path.name}, statement {number}: {first_line(exc)}"
                    ) from exc
            client.insert(
                "schema_migrations",
                [[migration.version, migration.name, migration.checksum]],
                column_names=["version", "name", "checksum"],
            )
            applied.append(migration)
        install_views(client, views, cluster_form)
        return applied
    finally:
        client.close()
