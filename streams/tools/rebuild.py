"""``journey rebuild [--from DAY --to DAY]``: recompute the rollups from the raw table into new
tables, check them, and swap them in (issue 18).

When a rollup's definition changes (a view file under ``streams/sql/views/``, installed by
``journey migrate``), the rows already written keep the old definition. A rebuild writes
every rollup again, for a window of whole days (default: every day the raw table holds):

1. each rollup ``T`` gets a twin ``T__rebuild`` made like it (columns, engine, projections,
   settings), holding ``T``'s rows outside the window as they are;
2. the fact rows of the window are recomputed from the raw ``interactions`` table, a share of
   journeys (and of customers) at a time, exactly as ``journey verify --from/--to`` computes
   them (streams/tools/verify_window.py), and inserted into a staging table whose views are
   the rollups' own view definitions writing the twins;
3. the twins are checked: ``journey verify --from/--to``'s rollups step on the twins must be
   exact;
4. each ``T`` is swapped with its twin (``EXCHANGE TABLES``, atomic: a query reads the old
   table or the new one, never neither), and the old tables are dropped.

Dashboards and analysts keep reading the old tables until the swap: nothing they read is
written to. The workers must be stopped (as for ``journey migrate``): rows they wrote during
the rebuild would go to the old tables only, so the rebuild compares the pipeline's progress
before the swap with what it was at the start, and stops without swapping if it moved. A
rebuild that fails drops its twins and staging and leaves the rollups as they were.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.clickhouse.views import View
from streams.clickhouse.views import load as load_views
from streams.errors import JourneyError
from streams.logic.customers import Windows
from streams.sinks.clickhouse import facts_insert, insert
from streams.tools import verify_window
from streams.tools.verify_window import CHUNK, Periods, WindowReport, ms

SUFFIX = "__rebuild"  # a rollup's twin while it is rebuilt
STAGING = "rebuild_facts"  # the recomputed fact rows go in here (Null): its views write twins


class RebuildError(JourneyError):
    """The rebuild could not be done; the rollups are as they were."""


@dataclass
class RebuildReport:
    """What a rebuild did: the tables swapped in, what was read, and the twins' check."""

    start: datetime
    end: datetime
    tables: list[str] = field(default_factory=list)
    facts: int = 0
    read: WindowReport | None = None
    check: WindowReport | None = None

    def lines(self) -> Iterator[str]:
        """The report as printed."""
        yield (
            f"rebuilt {len(self.tables)} rollups for {self.start:%Y-%m-%d} to "
            f"{self.end:%Y-%m-%d} (excluded) from {self.facts:,} fact rows"
            + (
                f", {self.read.events:,} events read in {self.read.shares} shares"
                if self.read
                else ""
            )
        )
        if self.check is not None:
            yield from self.check.lines()


def whole_days(
    start: datetime | None, end: datetime | None, client: Client
) -> tuple[datetime, datetime]:
    """The window: whole days (a daily rollup is rebuilt a day at a time); without bounds,
    every day the raw table holds an event of."""
    if (start is None) != (end is None):
        raise RebuildError("journey rebuild: --from and --to go together")
    if start is None or end is None:
        first, last, events = client.query(_load("raw_event_days").sql).result_rows[0]
        if not events:
            raise RebuildError("journey rebuild: the raw table holds no event: nothing to rebuild")
        return _midnight(first), _midnight(last) + timedelta(days=1)
    for when, option in ((start, "--from"), (end, "--to")):
        if when != _midnight(when):
            raise RebuildError(
                f"journey rebuild {option} {when:%Y-%m-%d %H:%M}: give a day (whole days)"
            )
    if end <= start:
        raise RebuildError(
            f"journey rebuild: --to {end:%Y-%m-%d} is not after --from {start:%Y-%m-%d}"
        )
    return start, end


def rebuild(
    client: Client,
    start: datetime,
    end: datetime,
    windows: Windows | None,
    topics: list[str],
    chunk: int = CHUNK,
) -> RebuildReport:
    """Recompute every rollup for [start, end) into twins, check them, swap them in (module
    docstring); ``topics``: whose progress must not move meanwhile."""
    periods = Periods.inside(start, end)
    report = RebuildReport(start, end)
    read = WindowReport(start, end)
    if unknown := verify_window.read_summary(client, read, windows):
        raise RebuildError(
            f"{unknown:,} events of the window were stored before migration 0017 recorded "
            "whether they arrived late: their late counts cannot be recomputed; rebuild a "
            "later window"
        )
    views = rollup_views()
    before = progress(client, topics)
    with _twins(client, views, periods):
        run = uuid.uuid4().hex[:12]
        low, high = ms(start), ms(end)
        for n, (_, facts) in enumerate(verify_window.window_facts(client, read, windows, chunk)):
            kept = facts.within("occurred_at", low, high)  # outside: the rows copied as they are
            if kept.rows:
                insert(client, facts_insert(kept, f"rebuild-{run}-{n}", STAGING))
                report.facts += kept.rows
        report.read = read
        _drop_staging(client, views)
        report.check = verify_window.check_window(client, start, end, windows, chunk, SUFFIX)
        if not report.check.exact:
            raise RebuildError(
                "the rebuilt tables are not what the raw table implies; nothing was swapped:\n"
                + "\n".join(report.check.lines())
            )
        if progress(client, topics) != before:
            raise RebuildError(
                "the workers applied records during the rebuild (their rows went to the old "
                "tables only); nothing was swapped: stop the workers and rebuild again"
            )
        for view in views:
            client.command(f"EXCHANGE TABLES {view.table} AND {view.table}{SUFFIX}")
            report.tables.append(view.table)
    return report


def rollup_views() -> list[View]:
    """The rollups a rebuild writes: every view ``journey verify`` checks by sums."""
    return [v for v in load_views() if v.check.mode == "sums"]


def progress(client: Client, topics: list[str]) -> dict[tuple[str, int], int]:
    """Each partition's last applied offset, per topic."""
    query = queries.load("partition_progress").sql
    return {
        (topic, int(row[0])): int(row[1])
        for topic in topics
        for row in client.query(query, parameters={"topic": topic}).result_rows
    }


@contextmanager
def _twins(client: Client, views: list[View], periods: Periods) -> Iterator[None]:
    """Twins holding each rollup's rows outside the window, and the staging table whose views
    write them; whatever happens, nothing of the rebuild is left behind (after a swap, the
    twins hold the old tables)."""
    _drop_all(client, views)
    try:
        client.command(f"CREATE TABLE {STAGING} AS ingest_facts")  # Null: stores nothing
        for view in views:
            twin = view.table + SUFFIX
            client.command(f"CREATE TABLE {twin} AS {view.table}")
            keep = f"NOT ({periods.condition(view.table.endswith('_hourly'))})"
            # Identifiers from the view files; the window's bounds are bound parameters.
            client.command(
                f"INSERT INTO {twin} SELECT * FROM {view.table} WHERE {keep}",  # noqa: S608
                parameters=periods.parameters,
            )
            select = view.select_from(STAGING)
            client.command(f"CREATE MATERIALIZED VIEW mv_{twin} TO {twin} AS\n{select}")
        yield
    finally:
        _drop_all(client, views)


def _drop_staging(client: Client, views: list[View]) -> None:
    for view in views:
        client.command(f"DROP VIEW IF EXISTS mv_{view.table}{SUFFIX}")
    client.command(f"DROP TABLE IF EXISTS {STAGING}")


def _drop_all(client: Client, views: list[View]) -> None:
    _drop_staging(client, views)
    for view in views:
        client.command(f"DROP TABLE IF EXISTS {view.table}{SUFFIX} SYNC")


def _midnight(when: datetime) -> datetime:
    day = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime.combine(day.date(), time(0), tzinfo=UTC)


def _load(name: str) -> queries.NamedQuery:
    return queries.load(name, queries.OPERATIONS_DIR)
