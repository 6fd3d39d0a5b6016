"""``journey verify --from/--to``, second step: the raw ``interactions`` table against every
rollup, for an event-time window, in memory bounded by a share of its journeys (issue 18).

The first step (streams/tools/verify_offsets.py) checks the window's records, those the topic
still holds, against the raw table. This step checks the raw table against every rollup for
the window, so it works for any window the raw table holds (400 days by its TTL), long after
the topic has dropped the records.

The truth is built as the whole ``journey verify`` builds it (streams/tools/verify.py), from
the raw events instead of the records: the same fact rows (:func:`verify.add_event_facts`,
:func:`verify.add_customer_facts`), summed by the very view definitions the server runs, and
compared with the rollups' whole hours and whole days inside the window. What a window's rows
depend on outside it is read too:

- a journey counts in the hour of its earliest event, a read pair or reply in its send's, a
  conversation in its opening's: every event of each journey with an event in the window is
  read, at any time;
- a customer's count at a time depends on that customer's events within the leakage and
  repeat windows around it: each such customer's events from the longer window before the
  window to the same after it are read.

Journeys (and customers) are read a share at a time, split by hash, ``CHUNK`` journeys a
share: memory is bounded by the share and by the window's cells, not by the topic or the
table. Whether an event arrived late depends on the records before it, so it is read from the
raw table (``late``, recorded by the worker since migration 0017; the first step checks it
against the records): a window with rows stored before that migration is reported with its
``late`` sums unchecked.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.errors import JourneyError
from streams.logic.customers import Windows
from streams.logic.facts import Facts
from streams.tools import verify
from streams.tools.verify import Comparison, Placed, Scope, Table, TableVerdict

CHUNK = 20_000  # journeys (or customers) whose events are read and decided at a time
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LATE = "late"  # the one measure the raw events' own fields cannot say
NOT_CHECKED = {
    "interactions": "the source of this step (the first step checks it against the records)",
    "dead_letters": "no event time (the first step checks them by offset)",
}


@dataclass(slots=True)
class RawEvent:
    """An event as the raw table stores it, read back as the decoder's ``Event`` (an
    optional field the event left out is stored as '' or false: None again here)."""

    event_id: str
    kind: str
    tenant: str
    industry: str
    use_case: str
    channel: str
    journey_id: str
    customer_id: str
    direction: str
    duration_s: float
    outcome: str
    purpose: str
    message_id: str
    status: str
    read_signal: str | None
    handed_off: bool
    conversation_id: str | None
    contact_reason: str | None
    agent_requested: bool | None
    exit_reason: str | None
    reply_enabled: bool | None
    error_code: str | None
    handoff_requested: bool | None
    resolved: bool | None
    in_reply_to: str | None
    schema_version: float = 1.0
    occurred_at: str = ""  # the text as sent is not stored; the time is ``Placed.at``


_OPTIONAL = (
    "read_signal", "conversation_id", "contact_reason", "exit_reason", "error_code", "in_reply_to"
)  # fmt: skip


def placed(row: dict[str, Any]) -> Placed:
    """One row of ``window_journey_events`` / ``window_customer_events`` as a placed event."""
    fields = {name: row[name] for name in RawEvent.__slots__ if name in row}
    for name in _OPTIONAL:
        fields[name] = fields[name] or None
    event = RawEvent(**fields)
    late = max(0, int(row["late"]))  # -1 (not recorded) is reported, not compared
    return Placed(
        event, int(row["at"]), late, int(row["kafka_partition"]), int(row["kafka_offset"])
    )


@dataclass
class WindowReport:
    """What the rollups step checked for a window, what it could not, and how each table
    compares."""

    start: datetime
    end: datetime
    events: int = 0
    journeys: int = 0
    customers: int = 0
    shares: int = 0
    repeated_rows: int = 0  # raw rows repeating an event already read (a double-applied batch)
    verdicts: list[TableVerdict] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.repeated_rows and all(v.exact for v in self.verdicts)

    def lines(self) -> Iterator[str]:
        """The report as printed."""
        verdict = "exact" if self.exact else "NOT exact"
        yield (
            f"rollups against the raw table: {verdict}: {self.events:,} events of "
            f"{self.journeys:,} journeys and {self.customers:,} customers, read in "
            f"{self.shares} shares"
        )
        if self.repeated_rows:
            yield (
                f"    the raw table holds {self.repeated_rows:,} rows repeating an event "
                "(check its offsets with --offsets)"
            )
        yield from (f"    {line}" for line in verify.summarise(self.verdicts))
        yield from (f"    not checked: {line}" for line in self.not_checked)


@dataclass(frozen=True)
class Periods:
    """The whole hours and whole days inside a window, as the rollups' time columns hold
    them, and the condition selecting them in either grain (bound parameters only)."""

    hours: tuple[datetime, datetime]
    days: tuple[date, date] | None

    @classmethod
    def inside(cls, start: datetime, end: datetime) -> Periods:
        first_hour = _ceil(start, HOUR)
        last_hour = _floor(end, HOUR)
        if last_hour <= first_hour:
            raise JourneyError(
                f"--from {start:%Y-%m-%d %H:%M} --to {end:%Y-%m-%d %H:%M}: the window holds no "
                "whole hour, and the rollups keep hours and days"
            )
        first_day, last_day = _ceil(start, DAY), _floor(end, DAY)
        days = (first_day.date(), last_day.date()) if first_day < last_day else None
        return cls((first_hour, last_hour), days)

    @property
    def parameters(self) -> dict[str, Any]:
        hours = {"hour_from": _seconds(self.hours[0]), "hour_to": _seconds(self.hours[1])}
        first, last = self.days or (date(1970, 1, 1), date(1970, 1, 1))
        return {**hours, "day_from": first, "day_to": last}

    def where(self, c: Comparison) -> str:
        """The condition selecting the window's periods of ``c``'s table."""
        return self.condition("hour" in c.dims)

    def condition(self, hourly: bool) -> str:
        """The window's whole hours (an hourly table) or whole days (a daily one)."""
        if hourly:
            return (
                "hour >= toDateTime({hour_from:UInt32}, 'UTC') "
                "AND hour < toDateTime({hour_to:UInt32}, 'UTC')"
            )
        return "day >= {day_from:Date} AND day < {day_to:Date}"

    def scope(self) -> Scope:
        return Scope(self.where, self.parameters)


def check_window(
    client: Client,
    start: datetime,
    end: datetime,
    windows: Windows | None,
    chunk: int = CHUNK,
    suffix: str = "",
) -> WindowReport:
    """The rollups' whole hours and days inside [start, end) (event time) against the truth
    the raw table implies (module docstring); ``suffix``: the tables compared are the
    rollups' twins named so (``journey rebuild``'s new tables, before they are swapped in)."""
    periods = Periods.inside(start, end)
    report = WindowReport(start, end)
    unknown_lateness = read_summary(client, report, windows)
    checks = _checks(client, periods, report, unknown_lateness)
    scope = periods.scope()
    by_customer = [c for c in checks if _counts_customers(c)]
    by_journey = [c for c in checks if not _counts_customers(c)]
    want: dict[str, Table] = {c.table: {} for c in checks}
    for customers, facts in window_facts(client, report, windows, chunk):
        _add(want, verify.expected(client, facts, by_customer if customers else by_journey, scope))
    twins = [replace(c, view=replace(c.view, table=c.table + suffix)) for c in checks]
    got = {
        t[: len(t) - len(suffix)]: rows for t, rows in verify.measured(client, twins, scope).items()
    }
    report.verdicts = verify.compare(checks, want, got)
    return report


def read_summary(client: Client, report: WindowReport, windows: Windows | None) -> int:
    """Fill in what the raw table holds of the report's window; return how many of its events
    were stored before their lateness was recorded (migration 0017)."""
    bounds = {"start_ms": ms(report.start), "end_ms": ms(report.end)}
    summary = client.query(_load("window_summary").sql, parameters=bounds).named_results()
    row = next(iter(summary))
    report.events, report.journeys = int(row["events"]), int(row["journeys"])
    report.customers = int(row["customers"]) if windows is not None else 0
    return int(row["lateness_unknown"])


def window_facts(
    client: Client, report: WindowReport, windows: Windows | None, chunk: int = CHUNK
) -> Iterator[tuple[bool, Facts]]:
    """The fact rows the raw table implies for the report's window (and around it: facts
    outside the window come too), a share at a time: (whether they are the customers
    stage's, the share's facts). :func:`read_summary` first."""
    bounds = {"start_ms": ms(report.start), "end_ms": ms(report.end)}
    for events in _shares(client, "window_journey_events", report.journeys, chunk, bounds, report):
        facts = Facts()  # a journey lies in one share: its events are read together
        verify.add_event_facts(facts, _first_seen(events, report))
        yield False, facts
    if windows is not None:
        reach = {**bounds, "reach_ms": max(windows.leakage_ms, windows.repeat_ms)}
        for events in _shares(
            client, "window_customer_events", report.customers, chunk, reach, report
        ):
            facts = Facts()
            verify.add_customer_facts(facts, ((p.event, p.at) for p in events), windows)
            yield True, facts


def _checks(
    client: Client, periods: Periods, report: WindowReport, unknown_lateness: int
) -> list[Comparison]:
    """The rollups compared: every view checked by sums, in the grains the window holds
    whole; without ``late`` where some of the window's rows predate its recording."""
    checks = []
    for c in verify.comparisons(client):
        if c.table in NOT_CHECKED:
            report.not_checked.append(f"{c.table}: {NOT_CHECKED[c.table]}")
        elif "hour" not in c.dims and "day" not in c.dims:
            report.not_checked.append(f"{c.table}: no hour or day to select the window by")
        elif "day" in c.dims and periods.days is None:
            report.not_checked.append(f"{c.table}: the window holds no whole day")
        elif LATE in c.measures and unknown_lateness:
            kept = tuple(m for m in c.measures if m != LATE)
            checks.append(replace(c, measures=kept))
            report.not_checked.append(
                f"{c.table}.{LATE}: {unknown_lateness:,} events of the window were stored "
                "before migration 0017 recorded whether they arrived late"
            )
        else:
            checks.append(c)
    return checks


def _counts_customers(c: Comparison) -> bool:
    """Whether the view counts the customers stage's rows (its own share of events)."""
    return "fact = 'customer'" in c.view.select


def _shares(
    client: Client,
    name: str,
    population: int,
    chunk: int,
    parameters: dict[str, int],
    report: WindowReport,
) -> Iterator[list[Placed]]:
    """The events of each share of the window's journeys (or customers), one share at a
    time."""
    parts = max(1, math.ceil(population / chunk))
    query = _load(name).sql
    for part in range(parts):
        report.shares += 1
        rows = client.query(query, parameters={**parameters, "parts": parts, "part": part})
        yield [placed(row) for row in rows.named_results()]


def _first_seen(events: list[Placed], report: WindowReport) -> list[Placed]:
    """The events once each: a second raw row of an event means the worker stored it twice."""
    seen: set[tuple[str, str]] = set()
    out = []
    for p in events:
        ids = (p.event.journey_id, p.event.event_id)
        if ids in seen:
            report.repeated_rows += 1
            continue
        seen.add(ids)
        out.append(p)
    return out


def _add(into: dict[str, Table], more: dict[str, Table]) -> None:
    """Sum ``more``'s rows into ``into``, key by key (a key whose sums come to nothing is
    dropped, as a table's are when it is read)."""
    for table, rows in more.items():
        target = into.setdefault(table, {})
        for key, values in rows.items():
            current = target.pop(key, None)
            total = (
                values if current is None else tuple(map(sum, zip(current, values, strict=True)))
            )
            if any(total):
                target[key] = total


def _ceil(t: datetime, step: timedelta) -> datetime:
    floor = _floor(t, step)
    return floor if floor == t else floor + step


def _floor(t: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + (t - epoch) // step * step


def _seconds(t: datetime) -> int:
    return int(t.timestamp())


def ms(t: datetime) -> int:
    """``t`` in milliseconds since the epoch, as event times are held."""
    return int(t.timestamp() * 1000)


def _load(name: str) -> queries.NamedQuery:
    return queries.load(name, queries.VERIFY_DIR)
