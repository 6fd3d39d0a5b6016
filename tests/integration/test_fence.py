"""The server-side fence (streams/sql/views/fenced_facts.sql): rows written under a stale lease stop
before any view, so a worker that lost its partitions cannot count a batch the new owner
counts; and an insert retried under its token lands once in every table behind the fence, even
when the first attempt failed half-way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.clickhouse.views import FENCED, load
from streams.logic.aggregate import Rules
from streams.logic.customers import Windows
from streams.settings import Settings
from streams.tools import verify
from tests.fixture_events import EVERY_TABLE as FIXTURE
from tests.fixture_events import load_fixture

pytestmark = pytest.mark.integration

# Every table a view writes behind the fence.
TABLES = tuple(v.table for v in load() if v.table != FENCED)
TOPICS = ("fixture", "fixture.customers")  # the ingest stage's, the customers stage's


def test_a_stale_owner_is_dropped_row_by_row_and_the_new_owner_applies(
    settings_factory: Callable[..., Settings],
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    migrate(url)
    client = connect(url)

    def counts() -> dict[str, int]:
        return {t: int(client.command(f"SELECT count() FROM {t}")) for t in TABLES}  # noqa: S608

    # the owner with lease 1 writes everything (both stages: partition 0 of each topic)
    load_fixture(client, FIXTURE, epochs={0: 1})
    before = counts()
    assert all(before.values()), before

    # Partition 0 moves on: its new owner takes lease 2.
    client.insert(
        "partition_leases",
        [[topic, 0, 2, "new-owner", datetime.now(UTC)] for topic in TOPICS],
        column_names=["kafka_topic", "kafka_partition", "epoch", "worker", "leased_at"],
    )
    # The old owner wakes up and writes the next records under its stale lease: nothing lands.
    load_fixture(client, FIXTURE, first_offset=len(FIXTURE), epochs={0: 1})
    assert counts() == before

    # The new owner writes the same records: they land once, everywhere.
    load_fixture(client, FIXTURE, first_offset=len(FIXTURE), epochs={0: 2})
    after = counts()
    assert after["interactions"] == 2 * before["interactions"]
    assert after["dead_letters"] == 2 * before["dead_letters"]
    assert all(after[t] > before[t] for t in TABLES if t != "ingest_progress"), after
    (last,) = client.query("SELECT max(kafka_offset) FROM ingest_progress").result_rows[0]
    assert last == 2 * len(FIXTURE) - 1


def test_the_tables_are_those_the_view_files_write() -> None:
    assert "rollup_interactions_daily" in TABLES and "dead_letters" in TABLES


def assert_exact(client: Any, records: list[Any]) -> None:
    truth = verify.compute_truth([records], Rules(), Windows())
    verdicts = verify.check(client, truth)
    assert all(v.exact for v in verdicts), "\n".join(verify.summarise(verdicts))
    assert len(verdicts) >= 12  # hourly and daily rollups, interactions, dead letters


def test_an_insert_sent_twice_under_its_token_lands_once_everywhere(
    settings_factory: Callable[..., Settings],
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    migrate(url)
    client = connect(url)
    records = load_fixture(client, FIXTURE, token="fixture/0:0-99")
    load_fixture(client, FIXTURE, token="fixture/0:0-99")  # a retry after a lost answer
    assert_exact(client, records)


def test_a_retry_after_a_failure_half_way_completes_the_tables_that_missed_it(
    settings_factory: Callable[..., Settings],
) -> None:
    """The insert fails in one view's table after others took it: the retry under the same
    token is de-duplicated where it landed and applied where it did not. (The server runs the
    views in an order of its own, so tables are refused in turn until one fails half-way.)"""
    for refusing in ("interactions", "rollup_messaging_daily", "dead_letters", "pipeline_health"):
        url = settings_factory().clickhouse_url.get_secret_value()
        migrate(url)
        client = connect(url)
        client.command(f"ALTER TABLE {refusing} ADD CONSTRAINT refuse CHECK 0")
        with pytest.raises(Exception, match="refuse"):
            load_fixture(client, FIXTURE, token="fixture/0:0-99")
        landed = {t: int(client.command(f"SELECT count() FROM {t}")) for t in TABLES}  # noqa: S608
        assert landed[refusing] == 0
        if any(landed.values()):
            break
    assert any(landed.values()), "no insert failed half-way"
    client.command(f"ALTER TABLE {refusing} DROP CONSTRAINT refuse")
    records = load_fixture(client, FIXTURE, token="fixture/0:0-99")
    assert_exact(client, records)
