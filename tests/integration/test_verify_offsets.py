"""`journey verify --offsets` and `--from/--to`: a range of the topic against the raw tables,
in bounded memory (issue 18), on what a real worker wrote from calibrated, disordered traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from clickhouse_connect.driver.client import Client

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.logic.ingest import Accepted, decide
from streams.settings import Settings
from streams.tools import verify
from streams.tools.verify_offsets import (
    OffsetRange,
    RangeReport,
    check_ranges,
    window_ranges,
)
from tests.integration.pipeline import publish_backfill, wait_applied
from tests.support import run_journey, settings_env

pytestmark = pytest.mark.integration


@pytest.fixture
def applied(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> tuple[Settings, Client, dict[str, int]]:
    """20,000 calibrated interactions with duplicates, malformed and late records, applied by
    a worker, which is stopped (nothing changes under the checks)."""
    settings = pipeline_settings
    published = publish_backfill(settings, 20_000)
    worker = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    wait_applied(client, settings.topic_interactions, sum(published.values()), 180, worker.log_tail)
    worker.stop(timeout=30)
    return settings, client, dict(published)


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
    # The check reads the raw table by offset through its projection (migration 0016).
    plan = "\n".join(
        row[0]
        for row in client.query(
            "EXPLAIN projections = 1 " + _raw_offsets_sql(),
            parameters={"partition": 0, "first": 0, "last": 100},
        ).result_rows
    )
    assert "(by_offset)" in plan, plan


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


def _raw_offsets_sql() -> str:
    from streams.clickhouse import queries

    return queries.load("raw_offsets", queries.VERIFY_DIR).sql
