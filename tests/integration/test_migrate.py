from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.clickhouse.client import connect
from streams.clickhouse.migrations import MIGRATIONS_DIR, MigrationError, migrate
from streams.clickhouse.views import VIEWS_DIR, ViewError, install, load
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
    no_views = tmp_path / "views"  # these migrations make none of the tables the views write
    (tmp_path / "0001_break_things.sql").write_text("SELECT 1;\nSELEKT nonsense;\n")
    with pytest.raises(MigrationError, match=r"0001_break_things.sql, statement 2"):
        migrate(url, tmp_path, views_directory=no_views)
    # Nothing is recorded for the failed file, so fixing it and re-running applies it.
    (tmp_path / "0001_break_things.sql").write_text("SELECT 1;\n")
    assert [m.name for m in migrate(url, tmp_path, views_directory=no_views)] == ["break_things"]


def test_daily_rollups_are_backfilled_from_the_hourly_ones_and_then_kept_by_their_views(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    from tests.fixture_events import FIXTURE, load_fixture

    url = settings_factory().clickhouse_url.get_secret_value()
    before_daily = tmp_path / "migrations"
    before_daily.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "0004":
            shutil.copy(path, before_daily)
    migrate(url, before_daily, views_directory=tmp_path / "views")  # the views of then: 0002's
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


def test_views_are_installed_when_their_definition_changes_and_dropped_when_gone(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    views = tmp_path / "views"
    shutil.copytree(VIEWS_DIR, views)
    migrate(url, views_directory=views)
    client = connect(url)

    def mv_names() -> set[str]:
        rows = client.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase()"
            " AND engine = 'MaterializedView'"
        ).result_rows
        return {str(r[0]) for r in rows}

    installed = mv_names()
    assert installed == {v.name for v in load(views)} and "mv_fenced_facts" in installed
    assert install(client, load(views)) == []  # nothing changed: nothing touched

    chatbot = views / "rollup_chatbot.sql"
    chatbot.write_text(
        chatbot.read_text().replace("count() AS sessions", "count() * 1 AS sessions")
    )
    (views / "rollup_calls.sql").unlink()
    changed = install(client, load(views))
    assert sorted(changed) == [
        "mv_rollup_calls_daily",
        "mv_rollup_calls_hourly",
        "mv_rollup_chatbot_daily",
        "mv_rollup_chatbot_hourly",
    ]
    assert "mv_rollup_calls_hourly" not in mv_names()
    query = client.command(
        "SELECT as_select FROM system.tables WHERE name = 'mv_rollup_chatbot_daily'"
    )
    assert "count() * 1" in str(query)
    # A view dropped by hand is missing, whatever the history says: installed again.
    client.command("DROP VIEW mv_rollup_journeys_daily")
    assert install(client, load(views)) == ["mv_rollup_journeys_daily"]


def test_a_view_that_fails_to_install_names_its_file(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    views = tmp_path / "views"
    views.mkdir()
    (views / "rollup_nothing.sql").write_text("-- verify: sums\nSELECT nope FROM fenced_facts")
    with pytest.raises(ViewError, match=r"rollup_nothing.sql, creating mv_rollup_nothing: .*"):
        migrate(url, views_directory=views)
