"""Least privilege, proved on a ClickHouse that enforces it: the embedded server honours users,
grants, settings constraints and quotas from a users.xml, so the journey accounts rendered from
``streams/access.py`` run there exactly as they would on a production server.

(clickhouse-local has no SQL-driven access storage, so ``sql/access/*.sql`` cannot be applied
here: its statements are parsed by the server instead, and both renderings share one model.)
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError
from streamlit.testing.v1 import AppTest

from deploy.local.clickhouse_server import EmbeddedClickHouse
from deploy.local.processes import ManagedProcess
from streams import access, queries
from streams.clickhouse import connect
from streams.kafka_admin import ensure_topics, project_topics
from streams.migrations import migrate
from streams.settings import Settings
from tests.integration.pipeline import assert_exact, publish_backfill, wait_applied
from tests.support import free_port, unique

pytestmark = pytest.mark.integration

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PASSWORDS = {a.user: f"pw-{a.user}-{unique('')}" for a in access.ACCOUNTS}
SAMPLES = {"String": "", "DateTime": "2020-01-01 00:00:00", "DateTime64(3)": "2020-01-01 00:00:00"}


@dataclass(frozen=True)
class Secured:
    """A server with the journey accounts and the migrated database they are granted on."""

    base: str
    database: str
    admin: Client

    def url(self, user: str | None = None) -> str:
        if user is None:
            return f"{self.base}/{self.database}"
        return self.base.replace("//", f"//{user}:{PASSWORDS[user]}@") + f"/{self.database}"

    def client(self, user: str) -> Client:
        return connect(self.url(user))


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    state = tmp_path_factory.mktemp("secured")
    database = unique("acl_")
    users = state / "users.xml"
    users.write_text(access.users_xml(database, PASSWORDS))
    server = EmbeddedClickHouse(state, port=free_port(), users_xml=users)
    server.start()
    try:
        migrate(f"{server.url}/{database}")  # as the administrator: the views' definer
        admin = connect(f"{server.url}/{database}")
        yield Secured(server.url, database, admin)
    finally:
        server.stop()


def refused(client: Client, sql: str, **settings: Any) -> str:
    """Run ``sql`` expecting the server to refuse it; return the refusal."""
    with pytest.raises(DatabaseError) as caught:
        client.command(sql, settings=settings or None)
    return str(caught.value)


def test_the_access_statements_parse_on_the_server(secured: Secured) -> None:
    statements = access.statements(secured.database)
    assert len(statements) >= 20
    for statement in statements:
        formatted = secured.admin.command(
            "SELECT formatQuery({s:String})", parameters={"s": statement}
        )
        code = " ".join(ln for ln in statement.splitlines() if not ln.startswith("--"))
        assert str(formatted).split()[:2] == code.split()[:2], statement


def test_the_dashboard_account_reads_everything_and_writes_nothing(secured: Secured) -> None:
    dashboard = secured.client("journey_dashboard")
    for query in queries.load_all():
        params = {k: SAMPLES.get(t, "10") for k, t in query.parameters.items()}
        dashboard.query(query.sql, parameters=params)  # every named query may be read
    for write in (
        "INSERT INTO ingest_facts (kafka_topic) VALUES ('x')",
        "DROP TABLE rollup_interactions_daily",
        "TRUNCATE TABLE interactions",
        "CREATE TABLE t (x UInt8) ENGINE = Memory",
    ):
        reason = refused(dashboard, write)
        assert "ACCESS_DENIED" in reason or "READONLY" in reason, reason
    # Even a grant given by mistake would not let it write: the profile pins readonly = 2.
    assert int(dashboard.command("SELECT getSetting('readonly')")) == 2
    # Its limits are ceilings it cannot raise.
    assert "shouldn't be greater than 30" in refused(dashboard, "SELECT 1", max_execution_time=31)
    # The client library already refuses to send readonly=0; the server is asked directly.
    user, password = "journey_dashboard", PASSWORDS["journey_dashboard"]
    request = urllib.request.Request(
        f"{secured.base}/?readonly=0&user={user}&password={password}", data=b"SELECT 1"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert "Cannot modify 'readonly'" in caught.value.read().decode()
    assert access.session_write_privileges(secured.url("journey_dashboard")) == []
    assert access.session_write_privileges(secured.url("journey_analyst")) == []


def test_the_worker_account_cannot_drop_alter_or_read_the_rollups(secured: Secured) -> None:
    worker = secured.client("journey_worker")
    assert "DROP TABLE" in refused(worker, "DROP TABLE ingest_facts")
    assert "TRUNCATE" in refused(worker, "TRUNCATE TABLE rollup_interactions_daily")
    assert "ALTER DELETE" in refused(worker, "ALTER TABLE interactions DELETE WHERE 1")
    assert "SELECT" in refused(worker, "SELECT count() FROM rollup_interactions_daily")
    assert "INSERT" in refused(worker, "INSERT INTO dead_letters (reason) VALUES ('x')")
    assert "CREATE" in refused(worker, "CREATE TABLE t (x UInt8) ENGINE = Memory")
    writes = access.session_write_privileges(secured.url("journey_worker"))
    assert sorted(writes) == [
        f"INSERT ON {secured.database}.ingest_facts",
        f"INSERT ON {secured.database}.partition_leases",
    ]


def test_the_worker_runs_exactly_with_its_insert_only_account(
    secured: Secured,
    services: dict[str, Any],
    settings_factory: Callable[..., Settings],
    worker_factory: Callable[..., ManagedProcess],
) -> None:
    settings = settings_factory(clickhouse_url=secured.url("journey_worker"))
    ensure_topics(settings.kafka_bootstrap, project_topics(settings))
    published = publish_backfill(settings, 1_500, seed=11)
    process = worker_factory(settings)
    wait_applied(
        secured.admin,
        settings.topic_interactions,
        sum(published.values()),
        timeout=120,
        describe=lambda: process.log_path.read_text()[-2000:],
    )
    assert_exact(settings, secured.admin)
    assert "ACCESS_DENIED" not in process.log_path.read_text()


def open_dashboard(url: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CLICKHOUSE_URL", url)
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    return app


def test_the_dashboard_refuses_write_capable_credentials(
    secured: Secured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNEY_DASHBOARD_ALLOW_WRITE", raising=False)
    for writer in (secured.url(), secured.url("journey_worker")):
        app = open_dashboard(writer, monkeypatch)
        (error,) = [e.value for e in app.error]
        assert "refuses to start" in error and "can write" in error
        assert PASSWORDS["journey_worker"] not in error  # the URL is shown masked
        assert not app.title  # no page ran
    app = open_dashboard(secured.url("journey_dashboard"), monkeypatch)
    assert not app.error and not app.exception
    assert [t.value for t in app.title] == ["Overview"]
    # Told otherwise, it runs with the administrator.
    monkeypatch.setenv("JOURNEY_DASHBOARD_ALLOW_WRITE", "true")
    app = open_dashboard(secured.url(), monkeypatch)
    assert not app.error and [t.value for t in app.title] == ["Overview"]
