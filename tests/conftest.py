"""Fixtures: the real Kafka broker and the embedded ClickHouse server, started by the tests.

Integration tests never skip because a service is missing: if the broker or the server
cannot start, the session fails with the launcher's message (and the log's tail).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from deploy.local.kafka_broker import KafkaBroker
from deploy.local.processes import LaunchError, ManagedProcess
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.kafka.admin import ensure_topics, project_topics
from streams.settings import Settings
from tests.fixture_events import FIXTURE, load_fixture
from tests.support import (
    DATABASE_POOL,
    account_url,
    accounted_server,
    clickhouse_scratch,
    free_port,
    fresh_database,
    settings_env,
    unique,
)

CACHE_DIR = Path.home() / ".cache" / "journey-telemetry"


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One broker and one ClickHouse server for the whole session, stopped at the end."""
    state = tmp_path_factory.mktemp("services")
    databases = [unique("t_") for _ in range(DATABASE_POOL)]
    with clickhouse_scratch() as data_root:
        broker = KafkaBroker(state, CACHE_DIR, port=free_port(), controller_port=free_port())
        clickhouse = accounted_server(state, databases, data_root)
        started: list[Any] = []
        try:
            for part in (clickhouse, broker):
                part.start()
                started.append(part)
        except LaunchError as exc:
            for part in started:
                part.stop()
            pytest.fail(f"could not start the test services: {exc}", pytrace=False)
        yield {
            "broker": broker,
            "clickhouse": clickhouse,
            "state": state,
            "databases": iter(databases),
            "admin": account_url(clickhouse.url, "admin"),  # no database: append /<database>
        }
        for part in reversed(started):
            part.stop()


@pytest.fixture
def settings_factory(services: dict[str, Any], tmp_path: Path) -> Callable[..., Settings]:
    """Settings pointing at the session services, with topics/database/group of their own."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "kafka": {"bootstrap": services["broker"].bootstrap},
            # As the administrator (migrations, fixtures, checks); processes under test get
            # their own accounts (worker_factory, the dashboard and journey sql tests).
            "clickhouse_url": f"{services['admin']}/{fresh_database(services)}",
            "state_dir": tmp_path / "state",
            "cache_dir": CACHE_DIR,
            "topic_prefix": unique("t"),
            "app_id": unique("worker-"),
            "worker_web_port": free_port(),
            "dashboard_port": free_port(),
            "topic_partitions": 6,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def pipeline_settings(settings_factory: Callable[..., Settings]) -> Settings:
    """Settings with migrations applied and topics created: ready for a worker."""
    settings = settings_factory()
    migrate(settings.clickhouse_url.get_secret_value())
    ensure_topics(settings.kafka.bootstrap, project_topics(settings))
    return settings


@pytest.fixture
def worker_factory() -> Iterator[Callable[..., ManagedProcess]]:
    """Start ``journey worker`` processes; every one is stopped after the test."""
    started: list[ManagedProcess] = []

    def start(settings: Settings, name: str = "worker") -> ManagedProcess:
        process = ManagedProcess(name, settings.state_dir)
        # Each worker its own web port (several may run side by side), and the insert-only
        # worker account.
        env = {
            **settings_env(settings),
            "JOURNEY_WORKER_WEB_PORT": str(free_port()),
            "CLICKHOUSE_URL": account_url(settings.clickhouse_url.get_secret_value(), "worker"),
        }
        process.start([sys.executable, "-m", "streams", "worker"], env=env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop(timeout=30)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any process started under this session's temp dirs is still alive."""
    from tests.processes import processes_mentioning

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    left = processes_mentioning(str(factory.getbasetemp()))
    if left:
        print("\nprocesses left running by the tests:\n  " + "\n  ".join(left))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="module")
def loaded(services: dict[str, Any]) -> tuple[str, Client]:
    """A database holding the fixture, written the way the worker writes."""
    url = f"{services['admin']}/{fresh_database(services)}"  # one database per module using it
    migrate(url)
    client = connect(url)
    load_fixture(client, FIXTURE)
    return url, client


@pytest.fixture(scope="session")
def calibrated(services: dict[str, Any]) -> tuple[str, Client]:
    """Two calibrated years (60,000 interactions from the simulator), written the way the
    worker writes: the data the headlines, the digest and the calibrated browser test read."""
    from streams.publish.pseudonymise import Pseudonymiser
    from streams.simulate.generator import Simulator, to_contract

    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    client = connect(url)
    simulator = Simulator(seed=5, pseudonymise=Pseudonymiser(b"calibrated"))
    records = simulator.backfill(
        60_000, datetime(2020, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)
    )
    load_fixture(client, [to_contract(r.event) for r in records if r.event is not None])
    return url, client
