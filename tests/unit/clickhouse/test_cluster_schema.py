"""The cluster form of the schema: every stored table Replicated, every read through Distributed."""

from __future__ import annotations

import re

import pytest

from streams.clickhouse import queries
from streams.clickhouse.cluster import ClusterSchemaError, create_database, rewrite
from streams.clickhouse.migrations import MIGRATIONS_DIR, SCHEMA_MIGRATIONS_DDL, planned
from streams.clickhouse.views import SCHEMA_VIEWS_DDL, load

CLUSTER = "prod"
CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)\b(.*)", re.DOTALL)
ENGINE = re.compile(r"ENGINE\s*=\s*(\w+)([^\n]*)")
READS = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")


def code(statement: str) -> str:
    return "\n".join(ln for ln in statement.splitlines() if not ln.lstrip().startswith("--"))


def cluster_statements() -> list[str]:
    """Every statement ``journey migrate`` may run on a cluster: the histories, the
    migrations, then the views (streams/sql/views/) as installed."""
    tables: set[str] = set()
    history = rewrite(SCHEMA_MIGRATIONS_DDL, CLUSTER, set()) + rewrite(
        SCHEMA_VIEWS_DDL, CLUSTER, set()
    )
    migrations = [code(s) for _, ss in planned(cluster=CLUSTER, tables=tables) for s in ss]
    views = [code(o) for v in load() for s in v.statements for o in rewrite(s, CLUSTER, tables)]
    return history + migrations + views


def tables_by_engine() -> dict[str, tuple[str, str]]:
    found = {}
    for statement in cluster_statements():
        if match := CREATE.match(code(statement).strip()):
            engine = ENGINE.search(match.group(2))
            assert engine, statement
            found[match.group(1)] = (engine.group(1), engine.group(2) or "")
    return found


def single_server_tables() -> set[str]:
    return {
        m.group(1)
        for _, statements in planned()
        for s in statements
        if (m := CREATE.match(code(s).strip()))
    } | {"schema_migrations", "schema_views"}


def test_every_table_that_stores_rows_is_replicated_and_read_through_distributed() -> None:
    engines = tables_by_engine()
    for table in single_server_tables():
        local, (kind, args) = f"{table}_local", engines[table]
        assert kind == "Distributed", f"{table} is read through {kind}, not Distributed"
        assert f"'{local}'" in args and f"'{CLUSTER}'" in args, args
        local_kind = engines[local][0]
        assert local_kind.startswith("Replicated") or local_kind == "Null", (local, local_kind)
    nulls = [t for t, (k, _) in engines.items() if k == "Null"]
    assert nulls == ["ingest_facts_local", "fenced_facts_local"]


def test_a_partitions_facts_and_leases_go_to_the_same_shard() -> None:
    engines = tables_by_engine()
    assert engines["ingest_facts"][1].endswith("kafka_partition)")
    assert engines["partition_leases"][1].endswith("kafka_partition)")


def test_the_views_hang_on_the_shard_local_tables() -> None:
    views = [s for s in cluster_statements() if "CREATE MATERIALIZED VIEW" in s]
    # made by 0002/0004, re-made by 0005 and 0006, then those of streams/sql/views (the fence too)
    assert len(views) == 15 + 15 + 1 + len(load())
    for view in views:
        target = re.search(r"\bTO\s+(\w+)", view)
        assert target and target.group(1).endswith("_local"), view[:120]
        for source in READS.findall(view):
            assert source.endswith("_local"), f"a view reads {source}: {view[:120]}"


def test_every_read_path_names_a_distributed_table() -> None:
    engines = tables_by_engine()
    readers = [(q.name, q.sql) for q in queries.load_all()]
    readers += [
        ("0003 analyst views", (MIGRATIONS_DIR / "0003_create_analyst_views.sql").read_text())
    ]
    for name, sql in readers:
        ctes = set(re.findall(r"\b(\w+)\s+AS\s*\(", sql))
        for table in set(READS.findall(sql)) - ctes:
            assert engines.get(table, ("?",))[0] == "Distributed", f"{name} reads {table}"


def test_replicated_tables_keep_the_dedup_window_the_worker_relies_on() -> None:
    for statement in cluster_statements():
        if "ReplicatedSummingMergeTree" in statement or "ReplicatedMergeTree\n" in statement:
            assert "non_replicated_deduplication_window" not in statement
    assert sum("replicated_deduplication_window = 10000" in s for s in cluster_statements()) >= 14


def test_alter_reaches_the_local_and_the_distributed_table() -> None:
    altered = [s for s in cluster_statements() if s.lstrip().startswith("ALTER TABLE")]
    pairs = [s.split()[2] for s in altered]
    assert pairs[:2] == ["ingest_facts_local", "ingest_facts"]  # 0005
    assert (
        pairs[2:10]
        == ["ingest_facts_local", "ingest_facts"] * 2 + ["dead_letters_local", "dead_letters"] * 2
    )  # 0006
    signed = [f"rollup_{r}_{g}" for r in ("journeys", "messaging") for g in ("hourly", "daily")]
    signed += ["rollup_replies_hourly", "rollup_replies_daily"]
    assert pairs[10:26] == [
        name
        for table in ["ingest_facts", "fenced_facts", *signed]
        for name in (f"{table}_local", table)
    ]  # 0009
    added = 9  # contract 1.1's fields
    assert pairs[26:80] == [
        name
        for table in ["interactions", "ingest_facts", "fenced_facts"]
        for _ in range(added)
        for name in (f"{table}_local", table)
    ]  # 0010
    measured = ["calls", "chatbot", "messaging", "replies"]
    assert pairs[80:96] == [
        name
        for table in (f"rollup_{r}_{g}" for r in measured for g in ("hourly", "daily"))
        for name in (f"{table}_local", table)
    ]  # 0011
    # 0013: projections and table settings alter the tables holding rows only
    assert pairs[96:106] == ["rollup_messaging_daily_local"] * 5 + ["rollup_calls_daily_local"] * 5
    assert pairs[106:114] == [
        name for table in ("ingest_facts", "fenced_facts") for _ in range(2)
        for name in (f"{table}_local", table)
    ]  # 0014: the second stage's columns  # fmt: skip
    assert pairs[114:119] == ["rollup_customers_daily_local"] * 5  # 0015: its projections
    assert pairs[119:121] == ["interactions_local"] * 2  # 0016: the raw table by offset
    # 0017: late recorded, and the projection by offset built again to carry it
    assert pairs[121:] == ["interactions_local", "interactions"] + ["interactions_local"] * 3


def test_projections_and_settings_alter_only_the_local_table() -> None:
    tables = {"t"}
    projection = "ALTER TABLE t ADD PROJECTION IF NOT EXISTS p (SELECT a, sum(b) GROUP BY a)"
    assert rewrite(projection, CLUSTER, tables) == [projection.replace(" t ", " t_local ")]
    setting = "ALTER TABLE t MODIFY SETTING deduplicate_merge_projection_mode = 'rebuild'"
    assert rewrite(setting, CLUSTER, tables) == [setting.replace(" t ", " t_local ")]
    column = "ALTER TABLE t ADD COLUMN x UInt8 -- not a PROJECTION"
    assert len(rewrite(column, CLUSTER, tables)) == 2


def test_the_database_is_replicated_and_no_statement_says_on_cluster() -> None:
    assert "ENGINE = Replicated(" in create_database("journey", CLUSTER)
    assert not any("ON CLUSTER" in s for s in cluster_statements())


def test_unknown_forms_and_names_are_refused() -> None:
    with pytest.raises(ClusterSchemaError, match="no cluster form for engine Memory"):
        rewrite("CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = Memory", CLUSTER, set())
    with pytest.raises(ClusterSchemaError, match="no cluster form for the statement"):
        rewrite("RENAME TABLE a TO b", CLUSTER, set())
    with pytest.raises(ClusterSchemaError, match="not a plain identifier"):
        rewrite("DROP VIEW IF EXISTS v", "prod'); DROP TABLE x; --", set())
