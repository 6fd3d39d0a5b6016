"""The cluster variant of the schema, generated from the single-server migrations.

``JOURNEY_CLICKHOUSE_CLUSTER=<cluster>`` is the one setting: ``journey migrate`` then applies
each migration rewritten for a sharded, replicated ClickHouse, without ``ON CLUSTER`` (as the
ClickHouse docs recommend for migrations): the database is created with the ``Replicated``
engine, which replays every DDL statement on every replica of every shard by itself.

The rewrite, statement by statement (the migration files stay the single source of truth):

- a table that stores rows, ``X``, becomes ``X_local`` with the ``Replicated`` form of its
  engine (arguments kept, paths filled in by the Replicated database), and ``X`` becomes a
  ``Distributed`` table over ``X_local``: every read path (named queries, analyst views,
  the dashboard) keeps reading ``X`` and reads all shards;
- ``ingest_facts`` (Null: stores nothing) becomes ``ingest_facts_local`` behind a Distributed
  ``ingest_facts`` sharded by ``kafka_partition``; the views hang on ``ingest_facts_local`` and
  write the ``_local`` tables of the shard the block landed on;
- ``partition_leases`` is sharded by ``kafka_partition`` too, so the newest lease of a
  partition lives on the shard that receives its facts, and the fence's join reads it locally;
- ``ALTER TABLE X`` alters ``X_local`` and ``X`` (columns), or ``X_local`` only when it
  changes how the rows are stored (projections, table settings: a Distributed table holds no
  rows); views, drops and ``INSERT ... SELECT`` keep their names and so go through the
  Distributed tables.
"""

from __future__ import annotations

import re

from streams.clickhouse.url import IDENTIFIER
from streams.errors import JourneyError

LOCAL = "_local"
# Inserts through the Distributed table must land on the partition's shard: leases and facts
# of one partition together, so the views' lease join is local. Other tables are filled by
# the views on the shard itself, or by a one-off backfill, so any spread will do.
# The migration and view histories live on one shard (key 0), read whole through Distributed.
SHARDING_KEYS = {
    "ingest_facts": "kafka_partition",
    "partition_leases": "kafka_partition",
    "schema_migrations": "0",
    "schema_views": "0",
}
DEFAULT_SHARDING_KEY = "rand()"

CREATE_TABLE = re.compile(
    r"^(?P<lead>(?:\s*--[^\n]*\n)*\s*)CREATE TABLE IF NOT EXISTS (?P<name>\w+)\b(?P<body>.*)$",
    re.DOTALL,
)
ENGINE = re.compile(r"ENGINE\s*=\s*(?P<engine>\w+)")
MATERIALIZED_VIEW = re.compile(r"CREATE MATERIALIZED VIEW IF NOT EXISTS \w+")
ALTER_TABLE = re.compile(
    r"^(?P<lead>(?:\s*--[^\n]*\n)*\s*)ALTER TABLE (?P<name>\w+)\b(?P<rest>.*)$", re.DOTALL
)
# ALTERs of what only a table holding rows has: the Distributed table takes none of them.
STORAGE_ONLY = re.compile(r"\b(PROJECTION|MODIFY SETTING)\b")
REPLICABLE = {"MergeTree", "SummingMergeTree", "ReplacingMergeTree", "AggregatingMergeTree"}


class ClusterSchemaError(JourneyError):
    """A migration statement has a form the cluster rewrite does not know."""


def check_cluster_name(cluster: str) -> str:
    """The cluster name, if it is a plain identifier (it is put into DDL as a literal)."""
    if not IDENTIFIER.fullmatch(cluster):
        raise ClusterSchemaError(f"cluster name {cluster!r} is not a plain identifier")
    return cluster


def create_database(database: str, cluster: str, replicated: bool = True) -> str:
    """``CREATE DATABASE`` for the cluster: Replicated, so DDL reaches every replica itself."""
    check_cluster_name(cluster)
    if not replicated:
        return f"CREATE DATABASE IF NOT EXISTS `{database}`"
    return (
        f"CREATE DATABASE IF NOT EXISTS `{database}` ENGINE = Replicated("
        f"'/clickhouse/databases/{cluster}/{database}', '{{shard}}', '{{replica}}')"
    )


def distributed(name: str, cluster: str, key: str) -> str:
    """The Distributed table ``name`` over ``name_local`` on every shard of ``cluster``."""
    return (
        f"CREATE TABLE IF NOT EXISTS {name} AS {name}{LOCAL} "
        f"ENGINE = Distributed('{cluster}', currentDatabase(), '{name}{LOCAL}', {key})"
    )


def _local_names(sql: str, tables: set[str]) -> str:
    """Point ``sql`` at the shard-local tables: the names after ``TO``, ``FROM`` and ``JOIN``
    only, since a column may share a table's name (``count() AS interactions``)."""
    names = "|".join(sorted(tables, key=len, reverse=True))
    return re.sub(rf"\b(TO|FROM|JOIN)(\s+)({names})\b(?!{LOCAL})", rf"\1\2\3{LOCAL}", sql)


def rewrite(statement: str, cluster: str, tables: set[str], replicated: bool = True) -> list[str]:
    """One single-server statement as the cluster statements doing the same.

    ``tables`` collects the names of the tables created so far (each is Distributed over a
    ``_local`` table on the cluster); the views created later are pointed at those.
    ``replicated=False`` keeps the shards' engines as they are (sharding without replicas):
    the form the tests run on the embedded one-node cluster, where Replicated cannot run.
    """
    check_cluster_name(cluster)
    code = "\n".join(ln for ln in statement.splitlines() if not ln.lstrip().startswith("--"))
    if match := CREATE_TABLE.match(statement):
        name, body = match.group("name"), match.group("body")
        engine = ENGINE.search(body)
        if engine is None:
            raise ClusterSchemaError(f"CREATE TABLE {name} names no engine")
        kind = engine.group("engine")
        if kind not in REPLICABLE and kind != "Null":
            raise ClusterSchemaError(f"table {name}: no cluster form for engine {kind}")
        if kind in REPLICABLE and replicated:
            body = body[: engine.start("engine")] + "Replicated" + body[engine.start("engine") :]
            # Replicated tables keep their insert tokens under another setting's window.
            body = body.replace(
                "non_replicated_deduplication_window", "replicated_deduplication_window"
            )
        tables.add(name)
        local = f"{match.group('lead')}CREATE TABLE IF NOT EXISTS {name}{LOCAL}{body}"
        key = SHARDING_KEYS.get(name, DEFAULT_SHARDING_KEY)
        return [local, distributed(name, cluster, key)]
    if MATERIALIZED_VIEW.search(code):
        return [_local_names(statement, tables)]
    if match := ALTER_TABLE.match(statement):
        name, rest = match.group("name"), match.group("rest")
        if name not in tables:
            raise ClusterSchemaError(f"ALTER TABLE {name}: the table was not created before")
        local = f"{match.group('lead')}ALTER TABLE {name}{LOCAL}{rest}"
        if STORAGE_ONLY.search(re.sub(r"--[^\n]*", "", rest)):
            return [local]
        return [local, f"ALTER TABLE {name}{rest}"]
    if re.match(r"\s*(CREATE VIEW|DROP VIEW|INSERT INTO)\b", code):
        return [statement]  # through the Distributed tables, by name
    raise ClusterSchemaError(f"no cluster form for the statement: {code.strip()[:80]}")
