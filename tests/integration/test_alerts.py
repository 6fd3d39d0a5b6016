"""`journey alerts check` end to end: a rule fires on the fixture's IVR calls, its message
reaches a local HTTP receiver through apprise's json:// target, and it is recorded once
however often the check runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.settings import Settings
from tests.fixture_events import ev, load_fixture
from tests.support import account_url, fresh_database, run_journey, settings_env

pytestmark = pytest.mark.integration


def call(n: int, at: str, seconds: float) -> dict[str, Any]:
    return ev(
        n, f"a{n}", "telecom", "digital_customer_service", "phone", at, kind="ivr_call",
        direction="inbound", duration_s=seconds, outcome="self_served",
    )  # fmt: skip


# 2021: three calls of 120 s; the same dates of 2020: three of 100 s. IVR time up 20%.
EVENTS = [
    *(call(n, f"2021-03-0{n}T10:00:00Z", 120.0) for n in (1, 2, 3)),
    *(call(n, f"2020-03-0{n - 3}T10:00:00Z", 100.0) for n in (4, 5, 6)),
]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server that keeps every JSON body posted to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_rule_fires_once_and_reaches_its_target(
    services: dict[str, Any],
    settings_factory: Callable[..., Settings],
    receiver: tuple[str, list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    load_fixture(connect(url), EVENTS)
    address, received = receiver
    rules = tmp_path / "alerts.toml"
    rules.write_text(
        f"""
[[rule]]
id = "ivr-up"
metric = "ivr_mean_s"
period = "2021"
compare = "same_dates"
change_percent = 10
direction = "up"
min_volume = 3
targets = ["json://{address}/hook"]

[[rule]]
id = "ivr-down"
metric = "ivr_mean_s"
period = "2021"
compare = "same_dates"
change_percent = 10
direction = "down"
min_volume = 3
targets = ["json://{address}/hook"]
"""
    )
    # As the worker's account, which reads the daily rollups and writes the alerts table.
    env = settings_env(settings_factory(clickhouse_url=account_url(url, "worker")))
    first = run_journey("alerts", "check", "--rules", str(rules), env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "ivr-up [2021-01-01..2022-01-01] fired: IVR mean call time rose 20% (1:40 → 2:00), "
        "2021-01-01 to 2021-12-31 against 2020-01-01 to 2020-12-31",
        "ivr-down [2021-01-01..2022-01-01] quiet: +20.0%, within the down threshold of 10%",
    ]
    assert len(received) == 1
    assert received[0]["title"] == "Alert ivr-up"
    assert received[0]["message"].startswith("IVR mean call time rose 20% (1:40 → 2:00)")
    again = run_journey("alerts", "check", "--rules", str(rules), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("ivr-up [2021-01-01..2022-01-01] fired before")
    assert len(received) == 1  # idempotent: delivered once for the period
    admin = connect(url)
    rows = admin.query(
        "SELECT rule_id, value, previous, change, unit FROM alerts FINAL"
    ).result_rows
    assert rows == [("ivr-up", 120.0, 100.0, pytest.approx(20.0), "percent")]
    # what fired, for analysts
    firings = run_journey(
        "sql", "alert_firings", "--param", "start=2021-01-01 00:00:00",
        "--param", "end=2022-01-01 00:00:00", "--param", "rule_id=", "--format", "csv",
        env=settings_env(settings_factory(clickhouse_url=account_url(url, "analyst"))),
    )  # fmt: skip
    assert firings.returncode == 0 and "ivr-up,ivr_mean_s" in firings.stdout


def test_a_target_that_refuses_is_retried_next_time(
    services: dict[str, Any], settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    from tests.support import free_port

    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    load_fixture(connect(url), EVENTS)
    rules = tmp_path / "alerts.toml"
    rules.write_text(
        '[[rule]]\nid = "ivr-up"\nmetric = "ivr_mean_s"\nperiod = "2021"\n'
        'compare = "same_dates"\nchange_percent = 10\nmin_volume = 3\n'
        f'targets = ["json://127.0.0.1:{free_port()}/hook"]\n'
    )
    env = settings_env(settings_factory(clickhouse_url=account_url(url, "worker")))
    result = run_journey("alerts", "check", "--rules", str(rules), env=env)
    assert result.returncode == 1
    assert "ivr-up [2021-01-01..2022-01-01] delivery failed" in result.stdout
    assert connect(url).command("SELECT count() FROM alerts") == 0
