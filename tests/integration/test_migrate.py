from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.clickhouse import connect
from streams.migrations import MIGRATIONS_DIR, MigrationError, migrate
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_migrate_creates_database_records_and_is_idempotent(
    settings_factory: Callable[..., Settings],
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    first = migrate(url)
    assert [m.version for m in first] == list(range(1, len(first) + 1))
    assert migrate(url) == []
    client = connect(url)
    recorded = client.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [(v, n) for v, n in recorded.result_rows] == [(m.version, m.name) for m in first]
    assert client.command("EXISTS TABLE interactions") == 1


def test_an_applied_migration_must_not_be_edited(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy)
    migrate(url, copy)
    target = copy / "0001_create_interactions.sql"
    target.write_text(target.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match=r"0001_create_interactions\.sql was edited"):
        migrate(url, copy)


def test_a_failing_statement_names_file_and_statement(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    (tmp_path / "0001_break_things.sql").write_text("SELECT 1;\nSELEKT nonsense;\n")
    with pytest.raises(MigrationError, match=r"0001_break_things.sql, statement 2"):
        migrate(url, tmp_path)
    # Nothing is recorded for the failed file, so fixing it and re-running applies it.
    (tmp_path / "0001_break_things.sql").write_text("SELECT 1;\n")
    assert [m.name for m in migrate(url, tmp_path)] == ["break_things"]


def test_daily_rollups_are_backfilled_from_the_hourly_ones_and_then_kept_by_their_views(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    from tests.integration.test_named_queries import FIXTURE, load_fixture

    url = settings_factory().clickhouse_url.get_secret_value()
    before_daily = tmp_path / "migrations"
    before_daily.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "0004":
            shutil.copy(path, before_daily)
    migrate(url, before_daily)
    client = connect(url)
    # written before the daily tables exist (and before ingest_facts had its epoch column)
    load_fixture(client, FIXTURE[:6], first_offset=0, schema_before_leases=True)
    migrate(url)  # 0004: creates the daily rollups and copies the hourly ones
    load_fixture(client, FIXTURE[6:], first_offset=6)  # written by the new views
    for table, measures in {
        "interactions": "sum(interactions), sum(late)",
        "calls": "sum(calls), sum(duration_ms), sum(late)",
        "messaging": "sum(sends), sum(receipts), sum(read_pairs), sum(read_within_3_min)",
        "journeys": "sum(journeys), sum(channels)",
        "chatbot": "sum(sessions), sum(handed_off)",
    }.items():
        hourly = client.query(
            f"SELECT toDate(hour) AS day, {measures} FROM rollup_{table}_hourly "  # noqa: S608
            "GROUP BY day ORDER BY day"
        ).result_rows
        daily = client.query(
            f"SELECT day, {measures} FROM rollup_{table}_daily GROUP BY day ORDER BY day"  # noqa: S608
        ).result_rows
        assert daily == hourly and hourly, table
