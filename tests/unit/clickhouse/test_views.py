"""The view files (streams/sql/views/): one definition per table, grains expanded, checks
declared."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.clickhouse.views import FENCED, VIEWS_DIR, Check, ViewError, load, parse

ROLLUP = """-- Sends per purpose.
-- grains: hour, day
-- verify: sums
CREATE TABLE IF NOT EXISTS {table}
(
    {grain} {grain_type},
    purpose LowCardinality(String),
    sends UInt64
)
ENGINE = SummingMergeTree
ORDER BY (purpose, {grain});

SELECT {period}, purpose, count() AS sends
FROM fenced_facts
WHERE fact = 'interaction' AND kind = 'message_sent'
GROUP BY ALL
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_rollup_with_grains_is_one_view_and_one_table_per_grain(tmp_path: Path) -> None:
    hourly, daily = parse(write(tmp_path, "rollup_sends.sql", ROLLUP))
    assert (hourly.table, hourly.name) == ("rollup_sends_hourly", "mv_rollup_sends_hourly")
    assert daily.table == "rollup_sends_daily"
    assert "toStartOfHour(occurred_at) AS hour, purpose" in hourly.select
    assert "toDate(occurred_at) AS day, purpose" in daily.select
    assert "day Date," in daily.table_ddl[0] and "ORDER BY (purpose, day)" in daily.table_ddl[0]
    assert "CREATE TABLE IF NOT EXISTS rollup_sends_hourly" in hourly.table_ddl[0]
    assert hourly.create.startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS mv_rollup_sends_hourly TO rollup_sends_hourly AS"
    )
    assert hourly.check == Check("sums")
    assert hourly.checksum != daily.checksum


def test_the_checksum_follows_every_part_of_the_definition(tmp_path: Path) -> None:
    (before,) = parse(write(tmp_path, "t.sql", "-- verify: sums\nSELECT 1 FROM fenced_facts"))
    (same,) = parse(
        write(tmp_path, "t.sql", "-- Said otherwise.\n-- verify: sums\nSELECT 1 FROM fenced_facts")
    )
    (after,) = parse(write(tmp_path, "t.sql", "-- verify: sums\nSELECT 2 FROM fenced_facts"))
    assert before.checksum == same.checksum  # comments are not the definition
    assert before.checksum != after.checksum


def test_verify_reads_the_truth_where_the_server_reads_the_fenced_rows(tmp_path: Path) -> None:
    (view,) = parse(
        write(tmp_path, "t.sql", "-- verify: rows by kind\nSELECT kind FROM fenced_facts")
    )
    assert view.check == Check("rows", ("kind",))
    assert view.select_from("truth") == "SELECT kind FROM truth"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("SELECT 1 FROM fenced_facts", "no '-- verify:' line"),
        ("-- verify: maybe\nSELECT 1 FROM fenced_facts", "is not sums, rows by COLUMN"),
        ("-- verify: no,\nSELECT 1 FROM fenced_facts", "is not sums"),
        ("-- verify: sums\nSELECT 1 FROM ingest_facts", "a view reads fenced_facts"),
        ("-- verify: sums\nCREATE TABLE x (a UInt8) ENGINE = Null", "must be the view's SELECT"),
        ("-- verify: sums\n-- grains: week\nSELECT 1 FROM fenced_facts", "unknown grain 'week'"),
        ("-- verify: sums\nSELECT {period} FROM fenced_facts", r"no value for \{period\}"),
        ("-- verify: sums\n-- grains: hour\nSELECT {when} FROM fenced_facts", r"\{when\}"),
    ],
)
def test_a_malformed_file_is_refused_with_its_name_and_the_reason(
    tmp_path: Path, text: str, error: str
) -> None:
    with pytest.raises(ViewError, match=rf"bad\.sql: .*{error}"):
        parse(write(tmp_path, "bad.sql", text))


def test_two_files_writing_one_table_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "rollup_sends.sql", ROLLUP)
    write(tmp_path, "rollup_sends_daily.sql", "-- verify: sums\nSELECT 1 FROM fenced_facts")
    with pytest.raises(ViewError, match="more than one view writes rollup_sends_daily"):
        load(tmp_path)


def test_the_shipped_views_fence_once_and_every_other_view_reads_the_fenced_rows() -> None:
    views = load(VIEWS_DIR)
    assert views[0].table == FENCED and "partition_leases" in views[0].select
    others = views[1:]
    assert len(others) >= 15  # 15 tables when the fence came, and every metric since
    assert not any("partition_leases" in v.select or "ingest_facts" in v.select for v in others)
    checked = {v.table for v in others if v.check.mode != "no"}
    assert {
        "interactions",
        "dead_letters",
        "rollup_calls_daily",
        "rollup_journeys_hourly",
    } <= checked
    assert "rollup_interactions_minute" not in checked  # it depends on now()
