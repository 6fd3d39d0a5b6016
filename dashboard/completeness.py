"""How complete and how fresh one figure is: the note drawn under every tile.

A figure counts some kinds of interaction (its named query's ``-- kinds:`` line). Under it the
page says when its answer was read from ClickHouse, how many of those interactions the period
holds and how many arrived late (behind their partition's watermark by more than the grace,
applied all the same), from the named query ``kind_completeness``. Pure: the page passes the
answer and the clock in.

It also warns when the figure's kinds stopped arriving while the period shown reaches today.
A kind is quiet when its newest interaction is older than ten times its mean gap over the last
24 hours, and older than ``QUIET_AFTER`` (a kind arriving about once a minute is quiet after
ten minutes, one arriving twice an hour after five hours). Arrivals at a steady rate leave a
gap ten times the mean with probability e^-10, about 1 in 22,000. The page's own stale
warning covers a worker that wrote nothing; this one catches one source that stopped (the IVR
platform's export, say) while the others flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard import labels

QUIET_AFTER = timedelta(minutes=10)
QUIET_GAPS = 10  # mean gaps of silence before a kind counts as quiet
DAY = timedelta(days=1)


@dataclass(frozen=True)
class KindFigures:
    """One kind's row of ``kind_completeness``."""

    interactions: int
    late: int
    last_day: int  # interactions in the last 24 hours
    newest_minute: datetime | None  # the newest minute that had one (None: not in 24 hours)


def by_kind(rows: Iterable[Mapping[Any, Any]]) -> dict[str, KindFigures]:
    """``kind_completeness``'s rows by kind (a kind with nothing in the last day has no newest
    minute: the join gives it the epoch, read here as None)."""
    out = {}
    for row in rows:
        last_day = int(row.get("last_day") or 0)
        newest = row.get("newest_minute")
        newest_minute = _utc(newest) if last_day > 0 and newest is not None else None
        out[str(row["kind"])] = KindFigures(
            int(row.get("interactions") or 0), int(row.get("late") or 0), last_day, newest_minute
        )
    return out


def note(kinds: Sequence[str], figures: Mapping[str, KindFigures], as_of: datetime) -> str:
    """The line under a figure counting ``kinds``: the answer's as-of time, and the late
    arrivals among the period's interactions of those kinds."""
    counted = [figures[k] for k in kinds if k in figures]
    total = sum(f.interactions for f in counted)
    late = sum(f.late for f in counted)
    share = f" ({late / total:.2%})" if total else ""
    return (
        f"As of {_utc(as_of):%Y-%m-%d %H:%M:%S} UTC: {total:,} {_what(kinds)} in the period, "
        f"{late:,} of them arrived late{share}, applied all the same."
    )


def quiet_warning(
    kinds: Sequence[str],
    figures: Mapping[str, KindFigures],
    now: datetime,
    reaches_today: bool,
) -> str | None:
    """A warning naming the kinds of the figure that stopped arriving (see the module's
    rule), or None; only for a period that reaches today (a past period is as complete as it
    will get)."""
    if not reaches_today:
        return None
    quiet = []
    for kind in kinds:
        found = figures.get(kind)
        if found is None or found.newest_minute is None or found.last_day <= 0:
            continue  # nothing in the last day to expect more from
        # The newest minute may have had its interactions at any second of it: count from its
        # end, so a kind is never called quiet early.
        silence = _utc(now) - (found.newest_minute + timedelta(minutes=1))
        mean_gap = DAY / found.last_day
        if silence > max(QUIET_AFTER, QUIET_GAPS * mean_gap):
            quiet.append((kind, silence, mean_gap))
    if not quiet:
        return None
    parts = [
        f"no {labels.label('kind', kind)} for {_duration(silence)} (one every "
        f"{_duration(gap)} over the last day)"
        for kind, silence, gap in quiet
    ]
    return (
        "This figure may be short: "
        + "; ".join(parts)
        + ". Their source may have stopped publishing while other interactions still arrive."
    )


def _what(kinds: Sequence[str]) -> str:
    if len(kinds) > 2:
        return "interactions"
    return "interactions (" + " and ".join(labels.label("kind", k) for k in kinds) + ")"


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


def _utc(moment: Any) -> datetime:
    """An aware UTC datetime (ClickHouse's times come back naive, in UTC)."""
    if not isinstance(moment, datetime):  # a pandas Timestamp is one; anything else is not
        raise TypeError(f"not a time: {moment!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
