"""What changed, in a few written sentences: the period's figures against the comparison's.

Pure functions over the answers of two named queries (``headline_totals`` for each period,
``headline_mix`` for both), so the Overview page, ``journey headlines`` and the digest say the
same thing. Every number in a sentence comes from those answers through a template: there is
no free text, and nothing is written that the counts do not support.

A change becomes a headline only when it is big enough to matter and sure enough to state:

- each side rests on at least ``min_volume`` events;
- a share moved by at least ``min_points`` points, and a two-proportion z-test gives
  ``|z| >= z``; a volume changed by ``min_relative`` or more and the two counts differ by
  ``z`` Poisson standard errors; a mean (IVR call time, channels per journey) changed by
  ``min_relative`` or more (the rollups keep durations only as buckets, so a mean's spread is
  not known: its sentence rests on size and volume).

Headlines are ranked by effect size, comparable across kinds: Cohen's h for a share
(``2 asin sqrt p1 - 2 asin sqrt p0``), the absolute log ratio for a volume or a mean; ties by
the order of ``KINDS``, then by the sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dashboard.labels import label

# The order ties are broken in: what executives read first (domain brief).
KINDS = ("volume", "ivr", "mix", "smart_notification", "read", "channels")


@dataclass(frozen=True)
class Thresholds:
    """When a change is written down (see the module's docstring)."""

    min_volume: int = 100
    min_points: float = 1.0
    min_relative: float = 0.05
    z: float = 3.0
    limit: int = 5


@dataclass(frozen=True)
class Headline:
    """One sentence, what it is about and how big the change is (for ranking)."""

    text: str
    kind: str
    effect: float


def headlines(
    now: Mapping[str, Any],
    before: Mapping[str, Any],
    mix: pd.DataFrame,
    rules: Thresholds = Thresholds(),
) -> list[Headline]:
    """The period's headlines, biggest effect first, at most ``rules.limit``.

    ``now`` and ``before``: the one row of ``headline_totals`` for the period and the
    comparison period. ``mix``: ``headline_mix`` (industry, channel, period_interactions,
    comparison_interactions)."""
    found = [
        *_volume(now, before, rules),
        *_ivr(now, before, rules),
        *_mix(mix, rules),
        *_smart_notifications(now, before, rules),
        *_reads(now, before, rules),
        *_channels(now, before, rules),
    ]
    found.sort(key=lambda h: (-round(h.effect, 9), KINDS.index(h.kind), h.text))
    return found[: rules.limit]


# A named query's runner: (name, bound parameters) -> its answer.
Runner = Callable[[str, dict[str, object]], pd.DataFrame]


def gather(
    run: Runner,
    period: dict[str, object],
    comparison: dict[str, object],
    rules: Thresholds = Thresholds(),
) -> list[Headline]:
    """The headlines of ``period`` against ``comparison`` (each the bound parameters of one
    period: start, end and the filters), from the named queries ``run`` answers."""
    now = run("headline_totals", period)
    before = run("headline_totals", comparison)
    both = period | {"compare_start": comparison["start"], "compare_end": comparison["end"]}
    # The chosen channel goes along unused (the mix compares channels): the page's runner
    # says so beside the figure.
    mix = run("headline_mix", both)
    return headlines(first_row(now), first_row(before), mix, rules)


def first_row(frame: pd.DataFrame) -> dict[str, Any]:
    """A one-row answer as a mapping ({} for no row)."""
    return {} if frame.empty else dict(frame.iloc[0])


def number(value: Any) -> float:
    """A count from an answer: a missing or NULL (NaN) one is 0."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return float(value)


def two_proportion_z(x1: float, n1: float, x0: float, n0: float) -> float:
    """z of the difference between shares x1/n1 and x0/n0 (pooled), 0 when undefined."""
    if not n1 or not n0:
        return 0.0
    pooled = (x1 + x0) / (n1 + n0)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return (x1 / n1 - x0 / n0) / spread if spread else 0.0


def cohens_h(p1: float, p0: float) -> float:
    """Effect size of a change of share from p0 to p1."""
    return abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0)))


def clock(seconds: float) -> str:
    """A call time as m:ss (103.8 s -> 1:44)."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _count(row: Mapping[str, Any], key: str) -> float:
    return number(row.get(key))


def _share(
    kind: str,
    x1: float,
    n1: float,
    x0: float,
    n0: float,
    rules: Thresholds,
    text: str,
) -> list[Headline]:
    """A share shift from x0/n0 to x1/n1 written with ``text`` (``{verb}``, ``{points}``,
    ``{before}``, ``{after}``), if it passes the volume, size and significance tests."""
    if min(n1, n0) < rules.min_volume:
        return []
    p1, p0 = x1 / n1, x0 / n0
    points = (p1 - p0) * 100
    if abs(points) < rules.min_points or abs(two_proportion_z(x1, n1, x0, n0)) < rules.z:
        return []
    sentence = text.format(
        verb="gained" if points > 0 else "lost",
        rose="rose" if points > 0 else "fell",
        more="more" if points > 0 else "fewer",
        points=f"{abs(points):.1f}",
        before=f"{p0:.1%}",
        after=f"{p1:.1%}",
    )
    return [Headline(sentence, kind, cohens_h(p1, p0))]


def _relative(new: float, old: float, rules: Thresholds) -> float | None:
    """The relative change new/old - 1 when it is big enough to write, else None."""
    if not old or not new:
        return None
    change = new / old - 1
    return change if abs(change) >= rules.min_relative else None


def _volume(now: Mapping[str, Any], before: Mapping[str, Any], rules: Thresholds) -> list[Headline]:
    new, old = _count(now, "interactions"), _count(before, "interactions")
    change = _relative(new, old, rules)
    if change is None or min(new, old) < rules.min_volume:
        return []
    if abs(new - old) < rules.z * math.sqrt(new + old):  # Poisson: not sure enough
        return []
    verb = "grew" if change > 0 else "fell"
    text = f"Interactions {verb} {abs(change):.0%} ({old:,.0f} → {new:,.0f})"
    return [Headline(text, "volume", abs(math.log(new / old)))]


def _ivr(now: Mapping[str, Any], before: Mapping[str, Any], rules: Thresholds) -> list[Headline]:
    calls1, calls0 = _count(now, "ivr_calls"), _count(before, "ivr_calls")
    if min(calls1, calls0) < rules.min_volume:
        return []
    mean1 = _count(now, "ivr_duration_ms") / calls1 / 1000
    mean0 = _count(before, "ivr_duration_ms") / calls0 / 1000
    change = _relative(mean1, mean0, rules)
    if change is None:
        return []
    way = "shorter" if change < 0 else "longer"
    text = f"IVR calls got {abs(change):.0%} {way} ({clock(mean0)} → {clock(mean1)})"
    return [Headline(text, "ivr", abs(math.log(mean1 / mean0)))]


def _mix(mix: pd.DataFrame, rules: Thresholds) -> list[Headline]:
    """Each channel's shift in the whole mix and within each industry."""
    if mix.empty:
        return []
    out: list[Headline] = []
    scopes: list[tuple[str, pd.DataFrame]] = [("", mix)]
    scopes += [(str(industry), rows) for industry, rows in mix.groupby("industry", sort=True)]
    if mix["industry"].nunique() == 1:
        scopes = scopes[1:]  # one industry chosen: its mix is the whole mix
    for industry, rows in scopes:
        by_channel = rows.groupby("channel", sort=True)[
            ["period_interactions", "comparison_interactions"]
        ].sum()
        n1 = float(by_channel["period_interactions"].sum())
        n0 = float(by_channel["comparison_interactions"].sum())
        where = f" in {label('industry', industry).lower()}" if industry else ""
        for channel, counts in by_channel.iterrows():
            name = label("channel", str(channel))
            out += _share(
                "mix",
                float(counts["period_interactions"]),
                n1,
                float(counts["comparison_interactions"]),
                n0,
                rules,
                f"{name} {{verb}} {{points}} points of the mix{where} ({{before}} → {{after}})",
            )
    return out


def _smart_notifications(
    now: Mapping[str, Any], before: Mapping[str, Any], rules: Thresholds
) -> list[Headline]:
    return _share(
        "smart_notification",
        _count(now, "smart_notification_interactions"),
        _count(now, "interactions"),
        _count(before, "smart_notification_interactions"),
        _count(before, "interactions"),
        rules,
        "Smart notifications {verb} {points} points of all interactions ({before} → {after})",
    )


def _reads(now: Mapping[str, Any], before: Mapping[str, Any], rules: Thresholds) -> list[Headline]:
    return _share(
        "read",
        _count(now, "read_within_3_min"),
        _count(now, "read_pairs"),
        _count(before, "read_within_3_min"),
        _count(before, "read_pairs"),
        rules,
        "Messages read within 3 minutes {rose} {points} points ({before} → {after})",
    )


def _channels(
    now: Mapping[str, Any], before: Mapping[str, Any], rules: Thresholds
) -> list[Headline]:
    journeys1, journeys0 = _count(now, "journeys"), _count(before, "journeys")
    if min(journeys1, journeys0) < rules.min_volume:
        return []
    per1 = _count(now, "journey_channels") / journeys1
    per0 = _count(before, "journey_channels") / journeys0
    change = _relative(per1, per0, rules)
    if change is None:
        return []
    way = "more" if change > 0 else "fewer"
    text = f"Journeys used {abs(change):.0%} {way} channels ({per0:.2f} → {per1:.2f} a journey)"
    return [Headline(text, "channels", abs(math.log(per1 / per0)))]
