"""The README's demo path: `journey up`, `journey status`, `journey down`, nothing left over."""

from __future__ import annotations

import json
import stat
import time
import urllib.request
from pathlib import Path

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from streams.clickhouse.client import connect
from streams.clickhouse.url import ClickHouseUrl
from tests.processes import processes_mentioning
from tests.support import free_port, run_journey, wait_for

pytestmark = pytest.mark.e2e


def test_up_status_down(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {
        "JOURNEY_STATE_DIR": str(state),
        "KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "JOURNEY_KAFKA_CONTROLLER_PORT": str(free_port()),
        "CLICKHOUSE_URL": f"http://127.0.0.1:{free_port()}/journey",
        "JOURNEY_DASHBOARD_PORT": str(free_port()),
        "JOURNEY_WORKER_WEB_PORT": str(free_port()),
    }
    try:
        up = run_journey(
            "up", "--backfill-events", "3000", "--live-rate", "5", env=env, timeout=300
        )
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"http://127.0.0.1:{env['JOURNEY_DASHBOARD_PORT']}" in up.stdout

        # The worker is healthy once it owns its partitions (its /ready page), seconds later.
        status = run_journey("status", env=env)
        deadline = time.monotonic() + 90
        while status.returncode != 0 and time.monotonic() < deadline:
            time.sleep(2)
            status = run_journey("status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        for part in ("kafka", "clickhouse", "worker", "dashboard"):
            assert any(
                line.startswith(part) and "healthy" in line for line in status.stdout.splitlines()
            ), status.stdout

        # The dashboard serves its page and reaches ClickHouse through the same URL.
        page = urllib.request.urlopen(
            f"http://127.0.0.1:{env['JOURNEY_DASHBOARD_PORT']}/", timeout=10
        ).read()
        assert b"<html" in page.lower()

        # Least privilege on the demo too: each part as its own account, the administrator
        # for migrations only, and nobody else can use the passwordless engine user.
        accounts = state / "clickhouse" / "accounts.json"
        assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
        passwords = json.loads(accounts.read_text())
        for part, user in (("worker", "journey_worker"), ("dashboard", "journey_dashboard")):
            pid = int((state / "run" / f"{part}.pid").read_text())
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            assert f"//{user}:".encode() in environ, part
        whoami = run_journey("sql", "SELECT currentUser()", "--format", "csv", env=env)
        assert whoami.stdout.splitlines() == ["currentUser()", "journey_analyst"], whoami.stderr
        for escape in (
            "SELECT * FROM file('/etc/passwd', 'LineAsString')",
            "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')",
            "KILL QUERY WHERE 1 SYNC",
        ):
            refused = run_journey("sql", escape, env=env)
            assert refused.returncode == 1 and "ACCESS_DENIED" in refused.stderr, escape
        anonymous = connect(env["CLICKHOUSE_URL"])  # the engine's own passwordless user
        with pytest.raises(DatabaseError, match="ACCESS_DENIED"):
            anonymous.query("SELECT count() FROM interactions")

        # The simulator's calibrated backfill flows through the worker into ClickHouse.
        client = connect(
            ClickHouseUrl.parse(env["CLICKHOUSE_URL"]).with_account(
                "journey_admin", passwords["journey_admin"]
            )
        )
        backfilled = (
            "SELECT toYear(occurred_at), count() FROM interactions "
            "WHERE occurred_at < '2022-01-01' AND kind != 'message_receipt' GROUP BY 1"
        )

        def interactions() -> dict[int, int]:
            return dict(client.query(backfilled).result_rows)

        wait_for(
            lambda: sum(interactions().values()) >= 3000,
            timeout=120,
            what="the backfill in ClickHouse",
        )
        years = interactions()
        assert set(years) == {2020, 2021}
        assert sum(years.values()) == 3000

        # Then live traffic: events of the last minutes reach ClickHouse within seconds.
        def live_events() -> int:
            return int(
                client.command(
                    "SELECT count() FROM interactions WHERE occurred_at > now() - INTERVAL 1 HOUR"
                )
            )

        wait_for(lambda: live_events() > 0, timeout=60, what="live traffic in ClickHouse")

        again = run_journey("up", env=env)
        assert again.returncode == 0, again.stderr  # idempotent: nothing started twice
        assert "starting" not in again.stdout
    finally:
        down = run_journey("down", env=env)
    assert down.returncode == 0, down.stderr
    for part in ("dashboard", "simulator", "worker", "clickhouse", "kafka"):
        assert f"stopped {part}" in down.stdout
    wait_for(
        lambda: not processes_mentioning(str(state)),
        timeout=30,
        what=f"no process left: {json.dumps(processes_mentioning(str(state)))}",
    )
    status = run_journey("status", env=env)
    assert status.returncode == 1
    assert "DOWN" in status.stdout
