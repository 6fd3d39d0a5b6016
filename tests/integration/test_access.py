"""Least privilege, proved on a ClickHouse that enforces it: the embedded server honours users,
grants, settings constraints and quotas from a users.xml, so the journey accounts rendered from
``streams/clickhouse/access.py`` run there exactly as they would on a production server. The
session's server is started that way (tests/conftest.py), as ``journey up`` starts the demo's.

(clickhouse-local has no SQL-driven access storage, so ``streams/sql/access/*.sql`` cannot be
applied here: its statements are parsed by the server instead, and both renderings share one model.)
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError
from streamlit.testing.v1 import AppTest

from streams.clickhouse import access, queries
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from tests.support import TEST_ACCOUNTS, account_url, fresh_database

pytestmark = pytest.mark.integration

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PASSWORDS = TEST_ACCOUNTS.passwords
SAMPLES = {"String": "", "DateTime": "2020-01-01 00:00:00", "DateTime64(3)": "2020-01-01 00:00:00"}
READERS = ("journey_dashboard", "journey_analyst")


@dataclass(frozen=True)
class Secured:
    """The session's server with the journey accounts, and a migrated database of its pool."""

    base: str
    database: str
    admin: Client

    def url(self, user: str | None = None) -> str:
        if user is None:
            return account_url(f"{self.base}/{self.database}", "admin")
        return self.base.replace("//", f"//{user}:{PASSWORDS[user]}@") + f"/{self.database}"

    def client(self, user: str) -> Client:
        return connect(self.url(user))


@pytest.fixture(scope="module")
def secured(services: dict[str, Any]) -> Secured:
    database = fresh_database(services)
    base = services["clickhouse"].url
    admin_url = account_url(f"{base}/{database}", "admin")
    migrate(admin_url)  # as the administrator: the views' definer
    return Secured(base, database, connect(admin_url))


def refused(
    client: Client, sql: str, parameters: dict[str, Any] | None = None, **settings: Any
) -> str:
    """Run ``sql`` expecting the server to refuse it; return the refusal."""
    with pytest.raises(DatabaseError) as caught:
        client.command(sql, parameters=parameters, settings=settings or None)
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
    # It reads the four daily rollups the alert check evaluates, and nothing else stored.
    assert "SELECT" in refused(worker, "SELECT count() FROM rollup_interactions_hourly")
    assert "SELECT" in refused(worker, "SELECT count() FROM rollup_conversations_daily")
    assert "SELECT" in refused(worker, "SELECT count() FROM interactions")
    worker.query("SELECT count() FROM rollup_interactions_daily")
    assert "INSERT" in refused(worker, "INSERT INTO dead_letters (reason) VALUES ('x')")
    assert "CREATE" in refused(worker, "CREATE TABLE t (x UInt8) ENGINE = Memory")
    writes = access.session_write_privileges(secured.url("journey_worker"))
    # On every database of the session's pool the same four; this test's database shown.
    assert {w.split(" ON ")[1].split(".")[1] for w in writes} == {
        "alerts",
        "ingest_facts",
        "ingest_losses",
        "partition_leases",
    }
    assert sorted(w for w in writes if f" {secured.database}." in w) == [
        f"INSERT ON {secured.database}.alerts",
        f"INSERT ON {secured.database}.ingest_facts",
        f"INSERT ON {secured.database}.ingest_losses",
        f"INSERT ON {secured.database}.partition_leases",
    ]


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


# What a reading account must not reach: files, the network, other systems, other programs.
ESCAPES = {
    "file": "SELECT * FROM file('/etc/passwd', 'LineAsString')",
    "url": "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
    "remote": "SELECT * FROM remote('127.0.0.1', system.one)",
    "s3": "SELECT * FROM s3('http://127.0.0.1:1/bucket/x.csv', 'CSV', 'a String')",
    "executable": "SELECT * FROM executable('cat', 'LineAsString', 'x String')",
    "mysql": "SELECT * FROM mysql('127.0.0.1:1', 'db', 't', 'u', 'p')",
    "postgresql": "SELECT * FROM postgresql('127.0.0.1:1', 'db', 't', 'u', 'p')",
    "hdfs": "SELECT * FROM hdfs('hdfs://127.0.0.1:1/x', 'CSV', 'a String')",
    "remoteSecure": "SELECT * FROM remoteSecure('127.0.0.1:1', system.one)",
    "azure": "SELECT * FROM azureBlobStorage('http://127.0.0.1:1/a', 'c', 'x.csv', 'CSV')",
}


@pytest.mark.parametrize("user", READERS)
@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_readers_reach_no_file_network_or_other_system(
    secured: Secured, user: str, escape: str
) -> None:
    reason = refused(secured.client(user), ESCAPES[escape])
    assert "ACCESS_DENIED" in reason or "READONLY" in reason, reason


@pytest.mark.parametrize("user", READERS)
def test_readers_cannot_kill_another_sessions_query(secured: Secured, user: str) -> None:
    import threading

    victim = f"victim-{user}"
    worker = secured.client("journey_worker")
    done: dict[str, Any] = {}

    def long_query() -> None:
        try:
            done["rows"] = worker.query(
                "SELECT sleep(1) FROM numbers(4) SETTINGS max_block_size = 1",
                settings={"query_id": victim},
            ).result_rows
        except Exception as exc:  # the assertion below says what happened
            done["error"] = exc

    thread = threading.Thread(target=long_query)
    thread.start()
    reader = secured.client(user)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not secured.admin.command(
        "SELECT count() FROM system.processes WHERE query_id = {q:String}", parameters={"q": victim}
    ):
        time.sleep(0.05)
    try:
        reason = refused(reader, f"KILL QUERY WHERE query_id = '{victim}' SYNC")
        assert "ACCESS_DENIED" in reason or "READONLY" in reason, reason
    finally:
        thread.join(timeout=30)
    assert "error" not in done and len(done["rows"]) == 4  # the worker's query ran to its end


@pytest.mark.parametrize("user", READERS)
def test_readers_are_bounded_in_time_memory_and_result_size(secured: Secured, user: str) -> None:
    account = next(a for a in access.ACCOUNTS if a.user == user)
    reader = secured.client(user)
    for limit in account.limits:
        current = reader.command(f"SELECT getSetting('{limit.name}')")
        assert str(current) == str(limit.value), limit
        # A ceiling may be lowered, never raised; a fixed one not changed at all. Asked of the
        # server itself: the client library refuses to send some of these on its own.
        raised = limit.value + 1 if isinstance(limit.value, int) else "break"
        if limit.name == "readonly":
            raised = 0
        reason = server_refusal(secured, user, {limit.name: raised})
        assert "SETTING_CONSTRAINT_VIOLATION" in reason or "Cannot modify" in reason, reason
    # And the bounds hold: a result too large, a query too long.
    rows = next(lim.value for lim in account.limits if lim.name == "max_result_rows")
    assert isinstance(rows, int)
    # (wait_end_of_query: the refusal comes as the answer, not as a stream cut midway)
    reason = server_refusal(
        secured,
        user,
        {"wait_end_of_query": 1, "param_n": rows + 10},
        "SELECT number FROM numbers({n:UInt64})",
    )
    assert "TOO_MANY_ROWS_OR_BYTES" in reason or "Limit for result exceeded" in reason, reason
    reason = refused(
        reader, "SELECT sleep(1) FROM numbers(3) SETTINGS max_block_size = 1", max_execution_time=1
    )
    assert "TIMEOUT_EXCEEDED" in reason, reason


def server_refusal(
    secured: Secured, user: str, settings: dict[str, Any], sql: str = "SELECT 1"
) -> str:
    """What the server answers to ``sql`` with ``settings`` for ``user`` (over HTTP, so no
    client library stands in between), expecting a refusal."""
    query = urllib.parse.urlencode({"user": user, "password": PASSWORDS[user], **settings})
    request = urllib.request.Request(f"{secured.base}/?{query}", data=sql.encode())
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    return str(caught.value.read().decode())


def test_the_dashboard_cannot_use_more_memory_than_its_bound(secured: Secured) -> None:
    reason = refused(
        secured.client("journey_dashboard"),
        "SELECT length(groupArray(number)) FROM numbers(600000000)",
    )
    assert "MEMORY_LIMIT_EXCEEDED" in reason, reason
