"""`journey rebuild`: the rollups recomputed from the raw table into new tables, checked and
swapped in, for a window or every day, while a reader keeps querying (issue 18)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from clickhouse_connect.driver.client import Client

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.logic.customers import windows_of
from streams.settings import Settings
from streams.tools.rebuild import RebuildError, rebuild
from streams.tools.verify_window import check_window
from tests.integration.pipeline import applied_backfill, assert_exact
from tests.support import run_journey, settings_env

pytestmark = pytest.mark.integration

SUMS = (
    "SELECT (SELECT sum(journeys) FROM rollup_journeys_daily), "
    "(SELECT sum(interactions) FROM rollup_interactions_hourly)"
)


def day(year: int, month: int, d: int = 1) -> datetime:
    return datetime(year, month, d, tzinfo=UTC)


def sums(client: Client) -> tuple[int, int]:
    journeys, interactions = client.query(SUMS).result_rows[0]
    return int(journeys), int(interactions)


def leftovers(client: Client) -> list[str]:
    return [
        str(name)
        for (name,) in client.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND (name LIKE '%\\\\_\\\\_rebuild' OR name = 'rebuild_facts')"
        ).result_rows
    ]


def test_a_rebuild_recomputes_the_rollups_while_a_reader_keeps_querying(
    pipeline_settings: Settings,
    worker_factory: Callable[..., ManagedProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = pipeline_settings
    env = settings_env(settings)
    client, _ = applied_backfill(settings, worker_factory)
    true_sums = sums(client)
    windows = windows_of(settings)

    # Rollups that no longer hold what the raw table implies (as after a definition changed):
    # cells of March 2021 counted twice, a day of June 2020's journeys gone.
    client.command(
        "INSERT INTO rollup_interactions_hourly SELECT * FROM rollup_interactions_hourly "
        "WHERE hour >= '2021-03-01' AND hour < '2021-04-01' LIMIT 5"
    )
    client.command(
        "ALTER TABLE rollup_journeys_daily DELETE WHERE day = '2020-06-10' "
        "SETTINGS mutations_sync = 2"
    )
    march, june = (day(2021, 3), day(2021, 4)), (day(2020, 6), day(2020, 7))
    assert not check_window(client, *march, windows).exact
    assert not check_window(client, *june, windows).exact
    tampered = sums(client)
    assert tampered[0] < true_sums[0] and tampered[1] > true_sums[1]

    # A window: March is rebuilt, June stays as it was.
    refused = run_journey("rebuild", "--from", "2021-03-01T06:00", "--to", "2021-04-01", env=env)
    assert refused.returncode != 0 and "give a day (whole days)" in refused.stderr
    done = run_journey("rebuild", "--from", "2021-03-01", "--to", "2021-04-01", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rebuilt 18 rollups for 2021-03-01 to 2021-04-01" in done.stdout, done.stdout
    assert "rollups against the raw table: exact" in done.stdout
    assert check_window(client, *march, windows).exact
    assert not check_window(client, *june, windows).exact
    assert sums(client) == (tampered[0], true_sums[1])
    assert not leftovers(client)

    # Every day, with a reader querying the rollups throughout: each answer is the old
    # table's or the new one's, never an error.
    seen: list[tuple[int, int]] = []
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:
        reader = connect(settings.clickhouse_url.get_secret_value())
        while not stop.is_set():
            try:
                seen.append(sums(reader))
            except Exception as exc:  # any failure is what the test looks for
                errors.append(repr(exc))
            time.sleep(0.02)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        everything = run_journey("rebuild", env=env)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert not errors, errors[:3]
    assert len(seen) > 20
    assert {j for j, _ in seen} == {tampered[0], true_sums[0]}  # before the swap, and after
    assert {i for _, i in seen} == {true_sums[1]}
    assert seen[-1] == true_sums == sums(client)
    assert not leftovers(client)
    assert_exact(settings, client)  # the whole journey verify, from the topic

    # Records applied while it ran (a worker left running): nothing is swapped.
    moves = iter([{("t", 0): 1}, {("t", 0): 2}])
    monkeypatch.setattr("streams.tools.rebuild.progress", lambda *_: next(moves))
    with pytest.raises(RebuildError, match="applied records during the rebuild"):
        rebuild(client, day(2021, 3), day(2021, 4), windows, [settings.topic_interactions])
    monkeypatch.undo()
    assert not leftovers(client) and sums(client) == true_sums

    # A window with rows stored before lateness was recorded cannot be rebuilt: refused,
    # nothing left behind, the rollups untouched.
    client.command(
        "ALTER TABLE interactions UPDATE late = -1 WHERE occurred_at >= '2021-05-01' "
        "AND occurred_at < '2021-05-02' SETTINGS mutations_sync = 2"
    )
    with pytest.raises(RebuildError, match="stored before migration 0017"):
        rebuild(client, day(2021, 5), day(2021, 6), windows, [settings.topic_interactions])
    assert not leftovers(client) and sums(client) == true_sums
