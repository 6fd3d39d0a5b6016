"""Threshold alerts on the executives' figures: rules in a TOML file, evaluated on the named
queries' answers, recorded once per rule and period, delivered through apprise.

A rule names a metric (``METRICS``), an optional slice (tenant, industry, use case, channel),
the period it watches (``last-week``, ``last-month``, a year...), the comparison, a threshold
(``change_points`` for a share, ``change_percent`` for a volume, a duration or a ratio), the
direction that matters and the minimum volume both periods must hold, and where to send it
(apprise URLs: ``json://``, ``mailto://``, ``slack://``...)::

    [[rule]]
    id = "ivr-time-up"
    metric = "ivr_mean_s"
    slice = { industry = "financial_services" }
    period = "last-week"
    change_percent = 10
    direction = "up"
    min_volume = 200
    targets = ["json://alerts.example.com/hook"]

Evaluation is pure (``evaluate``); ``check`` runs the rules against ClickHouse: a firing is
delivered, then recorded in the ``alerts`` table. A rule that fired for a period is not
delivered again for it, however often the check runs (idempotent); a delivery that fails is
not recorded, so the next check tries again (at least once, never twice once it succeeded).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from dashboard import filters, headlines
from dashboard.labels import label
from streams.errors import JourneyError

Kind = Literal["share", "volume", "duration", "ratio"]
SLICE_FIELDS = ("tenant", "industry", "use_case", "channel")
DIRECTIONS = ("up", "down", "either")


@dataclass(frozen=True)
class Metric:
    """A figure an alert can watch: its title, kind, and how to read its value and volume
    from ``headline_totals`` (and ``headline_mix``, for a channel's share)."""

    title: str
    kind: Kind
    numerator: str
    denominator: str | None = None
    scale: float = 1.0


METRICS: dict[str, Metric] = {
    "interactions": Metric("Interactions", "volume", "interactions"),
    "ivr_mean_s": Metric("IVR mean call time", "duration", "ivr_duration_ms", "ivr_calls", 1000),
    "read_within_3_min_share": Metric(
        "Messages read within 3 minutes", "share", "read_within_3_min", "read_pairs"
    ),
    "smart_notification_share": Metric(
        "Smart notifications' share", "share", "smart_notification_interactions", "interactions"
    ),
    "channels_per_journey": Metric("Channels per journey", "ratio", "journey_channels", "journeys"),
    # A channel's share of the slice's mix (the slice names the channel).
    "channel_share": Metric("Share of the mix", "share", "period_interactions", "total"),
}


@dataclass(frozen=True)
class Rule:
    """One alert rule (see the module's docstring)."""

    id: str
    metric: str
    threshold: float  # points for a share, percent otherwise
    direction: str = "either"
    slice: dict[str, str] = field(default_factory=dict)
    period: str = "last-week"
    compare: str = "aligned_year"
    min_volume: int = 100
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """A rule measured on a period: the values, the change, and whether it fires."""

    rule: Rule
    start: date
    end: date  # exclusive
    compare_start: date
    compare_end: date
    value: float | None
    previous: float | None
    change: float | None  # points for a share, percent otherwise
    volume: float
    fired: bool
    reason: str
    message: str


class RuleError(JourneyError, ValueError):
    """A rule file that cannot be used: says which rule and field, and why (one line, as every
    error meant for people: ``journey alerts`` and the worker's start print it so)."""


def load_rules(path: Path) -> list[Rule]:
    """The rules of ``path`` (TOML, ``[[rule]]`` tables), checked; a RuleError names the rule
    and the field that is wrong."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise RuleError(f"{path}: no such alert rules file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{path}: not valid TOML: {exc}") from None
    rules = [
        parse_rule(entry, f"{path} rule {i + 1}") for i, entry in enumerate(data.get("rule", []))
    ]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"{path}: two rules are named {rule.id!r}")
        seen.add(rule.id)
    return rules


def parse_rule(entry: Mapping[str, Any], where: str) -> Rule:
    """One ``[[rule]]`` table as a Rule, or a RuleError saying what is wrong with it."""
    known = {
        "id", "metric", "slice", "period", "compare", "change_points", "change_percent",
        "direction", "min_volume", "targets",
    }  # fmt: skip
    if not isinstance(entry.get("id"), str) or not entry["id"]:
        raise RuleError(f"{where}: every rule needs an id (a short name)")
    where = f"{where} ({entry['id']})"
    unknown = sorted(set(entry) - known)
    if unknown:
        raise RuleError(f"{where}: unknown field(s) {', '.join(unknown)}")
    metric = entry.get("metric")
    if metric not in METRICS:
        raise RuleError(f"{where}: unknown metric {metric!r}; known: {', '.join(METRICS)}")
    kind = METRICS[metric].kind
    wanted, other = (
        ("change_points", "change_percent")
        if kind == "share"
        else ("change_percent", "change_points")
    )
    if other in entry or wanted not in entry:
        raise RuleError(
            f"{where}: {metric} is a {kind}: give its threshold as {wanted}"
            + (" (points)" if kind == "share" else " (percent)")
        )
    threshold = entry[wanted]
    if not isinstance(threshold, int | float) or threshold <= 0:
        raise RuleError(f"{where}: {wanted} must be a positive number, got {threshold!r}")
    direction = entry.get("direction", "either")
    if direction not in DIRECTIONS:
        raise RuleError(f"{where}: direction must be one of {', '.join(DIRECTIONS)}")
    chosen = entry.get("slice", {})
    if not isinstance(chosen, dict) or set(chosen) - set(SLICE_FIELDS):
        raise RuleError(f"{where}: slice may name only {', '.join(SLICE_FIELDS)}")
    if metric == "channel_share" and "channel" not in chosen:
        raise RuleError(f"{where}: channel_share needs the channel in its slice")
    compare = entry.get("compare", "aligned_year")
    if compare not in filters.COMPARISONS:
        raise RuleError(f"{where}: compare must be one of {', '.join(filters.COMPARISONS)}")
    period = str(entry.get("period", "last-week"))
    try:
        filters.parse_period(period, date(2026, 1, 1))
    except ValueError as exc:
        raise RuleError(f"{where}: {exc}") from None
    volume = entry.get("min_volume", 100)
    if not isinstance(volume, int) or volume < 0:
        raise RuleError(f"{where}: min_volume must be a whole number of events")
    targets = entry.get("targets", [])
    if not isinstance(targets, list) or not all(isinstance(t, str) and "://" in t for t in targets):
        raise RuleError(f"{where}: targets must be a list of apprise URLs (json://host/path...)")
    return Rule(
        entry["id"], metric, float(threshold), direction, {k: str(v) for k, v in chosen.items()},
        period, compare, volume, tuple(targets),
    )  # fmt: skip


def measure(
    rule: Rule, totals: Mapping[str, Any], mix: pd.DataFrame, side: str
) -> tuple[float | None, float]:
    """The rule's metric and the volume it rests on, for one period (``side``: "period" or
    "comparison", the headline_mix column it reads for a channel's share)."""
    metric = METRICS[rule.metric]
    if rule.metric == "channel_share":
        counts = mix[f"{side}_interactions"] if not mix.empty else pd.Series(dtype=float)
        total = float(counts.sum())
        mine = float(counts[mix["channel"] == rule.slice["channel"]].sum()) if total else 0.0
        return (mine / total if total else None), total
    top = headlines.number(totals.get(metric.numerator))
    if metric.denominator is None:
        return (top if top else None), top
    below = headlines.number(totals.get(metric.denominator))
    return (top / below / metric.scale if below else None), below


def evaluate(
    rule: Rule,
    period: tuple[date, date],
    comparison: tuple[date, date],
    now: Mapping[str, Any],
    before: Mapping[str, Any],
    mix: pd.DataFrame,
) -> Evaluation:
    """Whether ``rule`` fires on these answers, and the sentence that says so."""
    value, volume = measure(rule, now, mix, "period")
    previous, volume_before = measure(rule, before, mix, "comparison")
    kind = METRICS[rule.metric].kind
    change: float | None = None
    if value is not None and previous is not None:
        change = (
            (value - previous) * 100
            if kind == "share"
            else ((value / previous - 1) * 100 if previous else None)
        )
    fired, reason = _decide(rule, change, min(volume, volume_before))
    message = _message(rule, value, previous, change, period, comparison) if fired else ""
    return Evaluation(rule, *period, *comparison, value, previous, change,
                      min(volume, volume_before), fired, reason, message)  # fmt: skip


def _decide(rule: Rule, change: float | None, volume: float) -> tuple[bool, str]:
    unit = "points" if METRICS[rule.metric].kind == "share" else "%"
    if volume < rule.min_volume:
        return False, f"too few events ({volume:,.0f} < {rule.min_volume:,})"
    if change is None:
        return False, "no value to compare"
    moved = {
        "up": change >= rule.threshold,
        "down": change <= -rule.threshold,
        "either": abs(change) >= rule.threshold,
    }[rule.direction]
    size, limit = (
        (f"{change:+.1f} points", f"{rule.threshold:g} points")
        if unit == "points"
        else (f"{change:+.1f}%", f"{rule.threshold:g}%")
    )
    verdict = "beyond" if moved else "within"
    return moved, f"{size}, {verdict} the {rule.direction} threshold of {limit}"


def _message(
    rule: Rule,
    value: float | None,
    previous: float | None,
    change: float | None,
    period: tuple[date, date],
    comparison: tuple[date, date],
) -> str:
    assert value is not None and previous is not None and change is not None
    metric = METRICS[rule.metric]
    title = metric.title
    if rule.metric == "channel_share":
        title = f"{label('channel', rule.slice['channel'])}'s share of the mix"
    moved = "rose" if change > 0 else "fell"
    size = f"{abs(change):.1f} points" if metric.kind == "share" else f"{abs(change):.0f}%"
    where = _where(rule.slice)
    return (
        f"{title}{where} {moved} {size} ({_show(metric.kind, previous)} → "
        f"{_show(metric.kind, value)}), {_days(period)} against {_days(comparison)}"
    )


def _show(kind: Kind, value: float) -> str:
    if kind == "share":
        return f"{value:.1%}"
    if kind == "duration":
        return headlines.clock(value)
    if kind == "volume":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _where(chosen: Mapping[str, str]) -> str:
    parts = [
        value if name == "tenant" else label(name, value)
        for name, value in chosen.items()
        if name != "channel"
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _days(span: tuple[date, date]) -> str:
    last = date.fromordinal(span[1].toordinal() - 1)
    return f"{span[0]:%Y-%m-%d} to {last:%Y-%m-%d}"


# ---- against ClickHouse -----------------------------------------------------------------
Deliver = Callable[[tuple[str, ...], str, str], bool]
Fired = Callable[[Evaluation], bool]
Record = Callable[[Evaluation], None]


def check(
    rules: list[Rule],
    run: headlines.Runner,
    today: date,
    already: Fired,
    deliver: Deliver,
    record: Record,
) -> list[tuple[Evaluation, str]]:
    """Evaluate every rule on its latest period; deliver and record each new firing. Returns
    each evaluation with what became of it ("fired", "fired before", "delivery failed",
    "quiet")."""
    out: list[tuple[Evaluation, str]] = []
    for rule in rules:
        start, end = filters.parse_period(rule.period, today)
        compare = filters.comparison_period(start, end, rule.compare)
        chosen = filters.Filters(
            start, end, *compare, *(rule.slice.get(name, "") for name in SLICE_FIELDS)
        )
        now_totals: dict[str, Any] = {}
        before_totals: dict[str, Any] = {}
        mix = pd.DataFrame()
        if rule.metric == "channel_share":  # the channel is what is counted, not a filter
            before = chosen.params(comparison=True)
            mix = run(
                "headline_mix",
                chosen.params() | {"compare_start": before["start"], "compare_end": before["end"]},
            )
        else:
            now_totals = headlines.first_row(run("headline_totals", chosen.params()))
            before_totals = headlines.first_row(
                run("headline_totals", chosen.params(comparison=True))
            )
        result = evaluate(rule, (start, end), compare, now_totals, before_totals, mix)
        if not result.fired:
            out.append((result, "quiet"))
        elif already(result):
            out.append((result, "fired before"))
        elif deliver(rule.targets, f"Alert {rule.id}", result.message):
            record(result)
            out.append((result, "fired"))
        else:
            out.append((result, "delivery failed"))
    return out


def apprise_deliver(targets: tuple[str, ...], title: str, body: str) -> bool:
    """Send through apprise to every target; True when every one took it (no target: True,
    the firing is only recorded)."""
    if not targets:
        return True
    import apprise

    sender = apprise.Apprise()
    for target in targets:
        if not sender.add(target):
            raise RuleError(f"apprise does not understand the target {target!r}")
    return bool(sender.notify(title=title, body=body))


ALERT_COLUMNS = (
    "rule_id", "period_start", "period_end", "compare_start", "compare_end", "metric",
    "slice", "value", "previous", "change", "unit", "message", "targets", "fired_at",
)  # fmt: skip


def alert_row(result: Evaluation, now: datetime | None = None) -> list[Any]:
    """The ``alerts`` table's row for a firing."""
    rule = result.rule
    unit = "points" if METRICS[rule.metric].kind == "share" else "percent"
    return [
        rule.id, result.start, result.end, result.compare_start, result.compare_end,
        rule.metric, json.dumps(rule.slice, sort_keys=True), result.value, result.previous,
        result.change, unit, result.message, list(rule.targets), now or datetime.now(UTC),
    ]  # fmt: skip
