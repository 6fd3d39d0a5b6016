"""The cluster schema on a real ClickHouse: the embedded server as a one-node cluster.

Every cluster statement is parsed by the server, Replicated engines included. The schema then
runs sharded (Distributed over the shard's tables through the server's native TCP port) with
the shards' engines as on a single server: clickhouse-local cannot run Replicated tables (it
sets no interserver address, so a replica stays read-only), and that part is the ClickHouse
Replicated database's own work. What the rewrite decides is all exercised: the names, the
Distributed tables, the views on the shard-local tables, the lease join, the backfills.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from deploy.local.clickhouse_server import EmbeddedClickHouse
from streams.clickhouse import queries
from streams.clickhouse.client import connect
from streams.clickhouse.cluster import rewrite
from streams.clickhouse.migrations import SCHEMA_MIGRATIONS_DDL, migrate, planned
from tests.fixture_events import FIXTURE, load_fixture
from tests.support import free_port, unique

pytestmark = pytest.mark.integration

CLUSTER = "journey_test"
SAMPLES = {"String": "", "DateTime": "2020-01-01 00:00:00", "DateTime64(3)": "2020-01-01 00:00:00"}
WIDE = {"start": "2000-01-01 00:00:00", "end": "2100-01-01 00:00:00"}


@pytest.fixture(scope="module")
def one_node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedClickHouse(
        tmp_path_factory.mktemp("cluster"), port=free_port(), cluster=(CLUSTER, free_port())
    )
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def columns(client: Client, table: str) -> list[tuple[str, str]]:
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
        "AND table = {t:String} ORDER BY position",
        parameters={"t": table},
    ).result_rows
    return [(str(n), str(t)) for n, t in rows]


def answer(client: Client, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows of a query without the columns that say when something was written (flush and
    lease times differ between the two writes; their content does not)."""
    result = client.query(sql, parameters=params)
    keep = [i for i, name in enumerate(result.column_names) if not name.endswith(("_at", "lag_s"))]
    return [tuple(row[i] for i in keep) for row in result.result_rows]


def test_every_cluster_statement_parses(one_node_cluster: str) -> None:
    client = connect(one_node_cluster, database="")
    statements = rewrite(SCHEMA_MIGRATIONS_DDL, CLUSTER, set())
    statements += [s for _, batch in planned(cluster=CLUSTER) for s in batch]
    for statement in statements:
        formatted = str(
            client.command("SELECT formatQuery({s:String})", parameters={"s": statement})
        )
        assert "Replicated" not in statement or "Replicated" in formatted


def test_the_cluster_schema_has_the_single_server_columns_and_answers(
    one_node_cluster: str,
) -> None:
    single_url = f"{one_node_cluster}/{unique('single_')}"
    sharded_url = f"{one_node_cluster}/{unique('sharded_')}"
    migrate(single_url)
    migrate(sharded_url, cluster=CLUSTER, replicated=False)
    single, sharded = connect(single_url), connect(sharded_url, distributed_foreground_insert=1)

    tables = [
        str(t)
        for (t,) in single.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND engine NOT LIKE '%View' ORDER BY name"
        ).result_rows
    ]
    assert len(tables) >= 18
    for table in tables:
        expected = columns(single, table)
        assert columns(sharded, table) == expected, table
        assert columns(sharded, f"{table}_local") == expected, table
        engine = sharded.command(
            "SELECT engine FROM system.tables "
            "WHERE database = currentDatabase() AND name = {t:String}",
            parameters={"t": table},
        )
        assert engine == "Distributed", (table, engine)

    # The same records written the worker's way answer every named query the same way.
    for client in (single, sharded):
        load_fixture(client, FIXTURE, epochs={0: 1})
        client.insert(
            "partition_leases",
            [["fixture", 0, 1, "fixture", "2026-01-01 00:00:00"]],
            column_names=["kafka_topic", "kafka_partition", "epoch", "worker", "leased_at"],
        )
    compared = 0
    for query in queries.load_all():
        params: dict[str, Any] = {k: SAMPLES.get(t, "10") for k, t in query.parameters.items()}
        params.update({k: v for k, v in WIDE.items() if k in params})
        if "compare_start" in params:
            params.update(compare_start="1990-01-01 00:00:00", compare_end="2000-01-01 00:00:00")
        if "recent" in query.name:
            continue  # the newest events of the last hour: read against the clock
        expected = answer(single, query.sql, params)
        assert answer(sharded, query.sql, params) == expected, query.name
        compared += 1
    assert compared >= 20
    counted = sharded.command("SELECT count() FROM interactions")
    assert int(str(counted)) == int(str(single.command("SELECT count() FROM interactions"))) > 0
