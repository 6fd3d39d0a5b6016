"""`journey verify --offsets` and `--from/--to`: a range of the topic against the raw tables,
in bounded memory (issue 18), on what a real worker wrote from calibrated, disordered traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from clickhouse_connect.driver.client import Client

from deploy.local.processes import ManagedProcess
from streams.logic.aggregate import Rules
from streams.logic.customers import windows_of
from streams.logic.ingest import Accepted, decide
from streams.settings import Settings
from streams.tools import verify
from streams.tools.verify_offsets import (
    OffsetRange,
    RangeReport,
    check_ranges,
    window_ranges,
)
from streams.tools.verify_window import check_window
from tests.integration.pipeline import applied_backfill
from tests.support import run_journey, settings_env

pytestmark = pytest.mark.integration


@pytest.fixture
def applied(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> tuple[Settings, Client, dict[str, int]]:
    """20,000 calibrated interactions with duplicates, malformed and late records, applied by
    a worker, which is stopped (nothing changes under the checks)."""
    client, published = applied_backfill(pipeline_settings, worker_factory)
    return pipeline_settings, client, dict(published)


def whole_topic(settings: Settings) -> list[OffsetRange]:
    parts = verify.read_partitions(settings.kafka.bootstrap, settings.topic_interactions)
    return [OffsetRange(p, 0, len(records) - 1) for p, records in enumerate(parts)]


def check(
    settings: Settings, client: Client, ranges: list[OffsetRange], chunk: int = 20_000
) -> list[RangeReport]:
    return check_ranges(
        client, settings.kafka.bootstrap, settings.topic_interactions, ranges, chunk=chunk
    )


def totals(reports: list[RangeReport]) -> tuple[int, int, int, int]:
    return (
        sum(r.records for r in reports),
        sum(r.accepted for r in reports),
        sum(r.repeated for r in reports),
        sum(r.rejected for r in reports),
    )


def test_every_offset_is_accounted_for_in_any_chunk_size_range_and_window(
    applied: tuple[Settings, Client, dict[str, int]],
) -> None:
    settings, client, published = applied
    ranges = whole_topic(settings)
    reports = check(settings, client, ranges)
    assert all(r.exact for r in reports), [line for r in reports for line in r.lines()]
    records, accepted, repeated, rejected = totals(reports)
    assert records == sum(published.values())
    assert (accepted, repeated, rejected) == (
        published["valid"],
        published["duplicate"],
        published["malformed"],
    )
    # Small chunks put repeats and their first arrivals in different chunks: the same answer.
    small = check(settings, client, ranges, chunk=997)
    assert all(r.exact for r in small) and totals(small) == totals(reports)
    # A range starting mid-topic finds the first arrivals of its repeats before it.
    tail = [OffsetRange(r.partition, r.last // 2, r.last) for r in ranges]
    late_half = check(settings, client, tail)
    assert all(r.exact for r in late_half)
    assert sum(r.records for r in late_half) == sum(r.last - r.first + 1 for r in tail)

    # A range starting at a late event: the worker's watermark before it comes from the rows
    # before the range (checked from a watermark of nothing, the event would be on time).
    ((partition, offset),) = client.query(
        "SELECT kafka_partition, max(kafka_offset) FROM interactions WHERE late = 1 "
        "GROUP BY kafka_partition ORDER BY count() DESC LIMIT 1"
    ).result_rows
    (alone,) = check(settings, client, [OffsetRange(partition, offset, offset)])
    assert alone.exact and alone.accepted == 1, list(alone.lines())

    # An event-time window: the records from its first event's offset to its last's.
    start, end = datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 4, 1, tzinfo=UTC)
    ranges = window_ranges(client, start, end)
    assert ranges and all(r.first < r.last for r in ranges)
    events = int(
        client.command(
            "SELECT count() FROM interactions WHERE occurred_at >= {s:DateTime} "
            "AND occurred_at < {e:DateTime}",
            parameters={"s": start.replace(tzinfo=None), "e": end.replace(tzinfo=None)},
        )
    )
    reports = check(settings, client, ranges)
    assert all(r.exact for r in reports)
    assert sum(r.accepted for r in reports) >= events
    cli = run_journey(
        "verify", "--from", "2021-03-01", "--to", "2021-04-01", env=settings_env(settings)
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "events from 2021-03-01 00:00 to 2021-04-01 00:00 UTC" in cli.stdout
    assert f"rollups against the raw table: exact: {events:,} events" in cli.stdout, cli.stdout
    # The check reads the raw table by offset through its projection (migrations 0016, 0017):
    # each range's rows; the watermark before a range can be read from it too (the projection
    # holds every column it reads; on a table this small the server may read the table).
    plans = {
        name: "\n".join(
            row[0]
            for row in client.query(
                "EXPLAIN projections = 1 " + _verify_sql(name),
                parameters={"partition": 0, "first": 1000, "last": 1100},
            ).result_rows
        )
        for name in ("raw_offsets", "partition_watermark")
    }
    assert "(by_offset)" in plans["raw_offsets"], plans["raw_offsets"]
    assert "Name: by_offset" in plans["partition_watermark"], plans["partition_watermark"]


def test_a_lost_row_and_a_double_counted_repeat_are_named_by_offset(
    applied: tuple[Settings, Client, dict[str, int]],
) -> None:
    settings, client, _ = applied
    parts = verify.read_partitions(settings.kafka.bootstrap, settings.topic_interactions)
    # A repeated event of partition 0: its first arrival and the repeat.
    first: dict[tuple[str, str], int] = {}
    pair = None
    for record in parts[0]:
        outcome = decide(record)
        if isinstance(outcome, Accepted):
            ids = (outcome.event.journey_id, outcome.event.event_id)
            if ids in first:
                pair = (first[ids], record.offset)
                break
            first.setdefault(ids, record.offset)
    assert pair is not None, "the backfill must repeat an event in partition 0"
    original, repeat = pair
    lost = next(o for o in first.values() if o != original)
    # The repeat counted too (a copy of the first arrival's row at its offset), and another
    # event's row lost.
    client.command(
        "INSERT INTO interactions SELECT * REPLACE ({repeat:UInt64} AS kafka_offset) FROM "
        # (a subquery: in ClickHouse the WHERE would see the replaced column)
        "(SELECT * FROM interactions WHERE kafka_partition = 0 "
        "AND kafka_offset = {original:UInt64})",
        parameters={"repeat": repeat, "original": original},
    )
    copied = client.command(
        "SELECT count() FROM interactions WHERE kafka_partition = 0 "
        "AND kafka_offset = {repeat:UInt64}",
        parameters={"repeat": repeat},
    )
    assert copied == 1, (copied, original, repeat, lost)
    client.command(
        "ALTER TABLE interactions DELETE WHERE kafka_partition = 0 "
        "AND kafka_offset = {lost:UInt64} SETTINGS mutations_sync = 2",
        parameters={"lost": lost},
    )
    (report,) = check(settings, client, [OffsetRange(0, 0, len(parts[0]) - 1)], chunk=500)
    assert not report.exact and (report.missing, report.extra, report.wrong) == (1, 1, 0)
    text = "\n".join(report.lines())
    assert f"0:{lost}: no raw row" in text
    assert f"0:{repeat} repeats 0:{original} and has a row too" in text
    # The command says the same and exits 1; a range clear of both is exact.
    env = settings_env(settings)
    cli = run_journey("verify", "--offsets", f"0:0-{len(parts[0]) - 1}", env=env)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "NOT exact" in cli.stdout and f"0:{lost}: no raw row" in cli.stdout
    clear = max(original, repeat, lost) + 1
    if clear < len(parts[0]):
        ok = run_journey("verify", "--offsets", f"0:{clear}-{len(parts[0]) - 1}", env=env)
        assert ok.returncode == 0 and "exact" in ok.stdout, ok.stdout + ok.stderr


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2021, 3, day, hour, tzinfo=UTC)


def test_the_rollups_of_any_window_are_what_the_raw_table_implies(
    applied: tuple[Settings, Client, dict[str, int]],
) -> None:
    """The rollups step recomputes every rollup of a window from the raw table a share of
    journeys at a time, and finds a changed rollup cell, a raw event stored twice and a
    changed lateness flag, inside the window only."""
    settings, client, _ = applied
    windows = windows_of(settings)
    # The whole backfill, in shares of 1,000 journeys: what the whole verify computes from
    # the records, table by table.
    whole = check_window(client, datetime(2020, 1, 1, tzinfo=UTC), datetime(2022, 2, 1, tzinfo=UTC),
                         windows, chunk=1_000)  # fmt: skip
    assert whole.exact, "\n".join(whole.lines())
    assert whole.events == int(client.command("SELECT count() FROM interactions"))
    assert whole.shares > 4 and len(whole.not_checked) == 2, whole.not_checked  # raw, dead
    partitions = verify.read_partitions(settings.kafka.bootstrap, settings.topic_interactions)
    rules = Rules(grace_ms=round(settings.late_grace_s * 1000))
    truth = verify.compute_truth(partitions, rules, windows)
    from_topic = {v.table: v.expected for v in verify.check(client, truth)}
    assert len(whole.verdicts) == 18  # nine rollups, hourly and daily
    for v in whole.verdicts:
        assert v.expected == from_topic[v.table] and any(v.expected), v.table
    # A window of part-days: its whole hours and whole days; small shares.
    start, end = at(1, 6), at(20, 18)
    report = check_window(client, start, end, windows, chunk=20)
    assert report.exact and report.shares > 10, "\n".join(report.lines())
    assert len(report.verdicts) == 18
    day_only = check_window(client, at(1, 6), at(1, 20), windows)
    assert day_only.exact and len(day_only.verdicts) == 9
    assert any("no whole day" in line for line in day_only.not_checked)

    # One hour of the window counted twice in one rollup cell: that table, that hour.
    hour = client.command(
        "SELECT min(hour) FROM rollup_interactions_hourly WHERE hour >= {s:DateTime} "
        "AND hour < {e:DateTime}",
        parameters={"s": at(2).replace(tzinfo=None), "e": at(3).replace(tzinfo=None)},
    )
    client.command(
        "INSERT INTO rollup_interactions_hourly SELECT * FROM rollup_interactions_hourly "
        "WHERE hour = {h:DateTime} LIMIT 1",
        parameters={"h": hour},
    )
    report = check_window(client, start, end, windows)
    wrong = {v.table: v.verdict for v in report.verdicts if not v.exact}
    assert wrong == {"rollup_interactions_hourly": "duplicated"}, "\n".join(report.lines())
    assert check_window(client, at(21), at(23), windows).exact  # a window clear of it
    cli = run_journey(
        "verify", "--from", "2021-03-01T06:00", "--to", "2021-03-20T18:00",
        env=settings_env(settings),
    )  # fmt: skip
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "rollups against the raw table: NOT exact" in cli.stdout
    assert "rollup_interactions_hourly" in cli.stdout and "duplicated" in cli.stdout

    # A raw event stored twice (a double-applied batch), and one event's lateness flipped.
    client.command(
        "INSERT INTO interactions SELECT * FROM interactions "
        "WHERE occurred_at >= {s:DateTime} AND occurred_at < {e:DateTime} LIMIT 1",
        parameters={"s": at(3).replace(tzinfo=None), "e": at(4).replace(tzinfo=None)},
    )
    report = check_window(client, at(3), at(4), windows)
    assert report.repeated_rows == 1 and not report.exact
    assert "rows repeating an event" in "\n".join(report.lines())
    flipped = client.command(
        "SELECT any(event_id) FROM interactions WHERE occurred_at >= {s:DateTime} "
        "AND occurred_at < {e:DateTime}",
        parameters={"s": at(5).replace(tzinfo=None), "e": at(6).replace(tzinfo=None)},
    )
    client.command(
        "ALTER TABLE interactions UPDATE late = 1 - late WHERE event_id = {id:String} "
        "SETTINGS mutations_sync = 2",
        parameters={"id": flipped},
    )
    report = check_window(client, at(5), at(6), windows)
    flagged = {v.table for v in report.verdicts if not v.exact}
    assert flagged == {"rollup_interactions_hourly", "rollup_interactions_daily"}, flagged
    # The topic step finds the flag wrong against the record, in a range of that one offset
    # (its watermark seeded from the rows before it).
    ((partition, offset, now_late),) = client.query(
        "SELECT kafka_partition, kafka_offset, late FROM interactions WHERE event_id = {id:String}",
        parameters={"id": flipped},
    ).result_rows
    (single,) = check(settings, client, [OffsetRange(partition, offset, offset)])
    said = "late" if now_late else "on time"
    assert (single.records, single.wrong) == (1, 1), list(single.lines())
    assert f"{partition}:{offset}: stored {said}, the record is" in "\n".join(single.lines())


def _verify_sql(name: str) -> str:
    from streams.clickhouse import queries

    return queries.load(name, queries.VERIFY_DIR).sql
