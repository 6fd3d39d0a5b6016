"""The server-side fence (migration 0005): rows written under a stale lease are dropped by every
view, so a worker that lost its partitions cannot count a batch the new owner counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from streams.clickhouse import connect
from streams.migrations import migrate
from streams.settings import Settings
from tests.integration.test_named_queries import FIXTURE, load_fixture

pytestmark = pytest.mark.integration

TABLES = (
    "interactions",
    "rollup_interactions_hourly",
    "rollup_interactions_daily",
    "rollup_interactions_minute",
    "rollup_calls_hourly",
    "rollup_calls_daily",
    "rollup_messaging_hourly",
    "rollup_messaging_daily",
    "rollup_journeys_hourly",
    "rollup_journeys_daily",
    "rollup_chatbot_hourly",
    "rollup_chatbot_daily",
    "dead_letters",
    "ingest_progress",
    "pipeline_health",
)


def test_a_stale_owner_is_dropped_row_by_row_and_the_new_owner_applies(
    settings_factory: Callable[..., Settings],
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    migrate(url)
    client = connect(url)

    def counts() -> dict[str, int]:
        return {t: int(client.command(f"SELECT count() FROM {t}")) for t in TABLES}  # noqa: S608

    load_fixture(client, FIXTURE, epochs={0: 1})  # the owner with lease 1 writes everything
    before = counts()
    assert all(before.values()), before

    # Partition 0 moves on: its new owner takes lease 2.
    client.insert(
        "partition_leases",
        [["fixture", 0, 2, "new-owner", datetime.now(UTC)]],
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
