"""The Report page's arithmetic: each published figure (``calibration.toml [[figures]]``,
from ``../shared/domain.md``) measured on the rollups of a chosen year.

Pure functions over the frames of the named queries ``report_*_cells``, so the page and an
analyst reading the same cells get the same numbers. The published figures are for 2021
(growth: 2021 over 2020); measured on year Y, 2021 reads as Y and 2020 as Y - 1.

A figure's ``basis`` is "published" (a report's finding) or "model" (a modelling choice of ours
with no published figure, shown apart so a reader sees the simulator's settings come back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

REFERENCE_YEAR = 2021
CLOSE_ENOUGH = 0.10  # relative distance at which a measured value is "as published"
# Standard errors of a figure's counts that chance alone may move it by: three (0.3% for one
# figure the data does reproduce), because with 30 findings two would flag one by chance.
MARGIN = 3.0


@dataclass(frozen=True)
class Cells:
    """The cell frames the figures are measured on (see ``streams/sql/queries/report_*``)."""

    interactions: pd.DataFrame  # year, industry, use_case, channel, kind, interactions
    calls: pd.DataFrame  # year, industry, kind, calls, duration_ms, agent_requested_calls...
    reads: pd.DataFrame  # year, industry, channel, read_pairs, read_within_3_min
    journeys: pd.DataFrame  # year, industry, journeys, channels
    messages: pd.DataFrame  # year, industry, channel, sends, reply_enabled_sends, delivered...
    chatbot: pd.DataFrame  # year, industry, sessions, contained_sessions, denied_handoffs...
    conversations: pd.DataFrame  # year, industry, channel, conversations, waited_a_day...
    customers: pd.DataFrame  # year, industry, web_visits, leaked_visits, calls_and_chats...

    def frame(self, name: str) -> pd.DataFrame:
        """The frame a ``ratio`` figure names in ``cells``."""
        if name not in self.__dataclass_fields__:
            raise ValueError(f"no report cells named {name!r}")
        frame: pd.DataFrame = getattr(self, name)
        return frame


@dataclass(frozen=True)
class Measured:
    """A figure's measured value and its standard error from the counts it rests on (None
    where the cells cannot give one: a mean, channels per journey)."""

    value: float | None
    error: float | None = None


def measure(figure: dict[str, Any], cells: Cells, year: int) -> float | None:
    """The figure's value measured on ``year`` (None when the cells hold nothing to divide by)."""
    return measure_with_error(figure, cells, year).value


def measure_with_error(figure: dict[str, Any], cells: Cells, year: int) -> Measured:
    """The figure measured on ``year``, with the sampling error its counts carry: a share of n
    events is binomial, a growth the ratio of two counts (Poisson)."""
    metric = figure["metric"]
    at = year + int(figure.get("year", REFERENCE_YEAR)) - REFERENCE_YEAR
    touches = cells.interactions[cells.interactions["kind"] != "message_receipt"]
    if metric == "share":
        pool = _where(touches[touches["year"] == at], figure.get("slice"))
        return _share(_where(pool, figure["of"])["interactions"].sum(), pool["interactions"].sum())
    if metric == "growth":
        of = figure["of"]
        # receipts are not interactions, unless the figure asks for a receipt kind itself
        pool = _where(cells.interactions if "kind" in of else touches, of)
        counts = pool.groupby("year")["interactions"].sum()
        return _growth(counts.get(at, 0), counts.get(at - 1, 0))
    if metric == "mean":
        if figure.get("field") != "duration_s":
            raise ValueError(f"figure {figure['id']}: only duration_s means are measured")
        pool = _where(cells.calls[cells.calls["year"] == at], figure["of"])
        mean_ms = _ratio(pool["duration_ms"].sum(), pool["calls"].sum())
        return Measured(None if mean_ms is None else mean_ms / 1000)
    if metric == "read_within":
        if int(figure["seconds"]) != 180:
            raise ValueError(f"figure {figure['id']}: the rollups count reads within 180 s only")
        pool = _where(cells.reads[cells.reads["year"] == at], figure["of"])
        return _share(pool["read_within_3_min"].sum(), pool["read_pairs"].sum())
    if metric == "channels_per_journey":
        pool = _where(cells.journeys[cells.journeys["year"] == at], figure["of"])
        return Measured(_ratio(pool["channels"].sum(), pool["journeys"].sum()))
    if metric == "ratio":
        # A share: one column of one cell frame over another, summed over the year and slice.
        frame = cells.frame(figure["cells"])
        if frame.empty:
            return Measured(None)
        pool = _where(frame[frame["year"] == at], figure.get("slice"))
        return _share(pool[figure["numerator"]].sum(), pool[figure["denominator"]].sum())
    if metric == "top_channels_share":
        by_channel = touches[touches["year"] == at].groupby("channel")["interactions"].sum()
        top = by_channel.sort_values(ascending=False).head(int(figure["count"]))
        return _share(top.sum(), by_channel.sum())
    raise ValueError(f"figure {figure['id']}: unknown metric {metric!r}")


def _share(part: Any, whole: Any) -> Measured:
    """A share and its standard error, Agresti and Coull's (two successes and two failures
    added): the plain binomial error is zero at 0% or 100%, however few the events."""
    value = _ratio(part, whole)
    if value is None:
        return Measured(None)
    n = float(whole) + 4
    p = (float(part) + 2) / n
    return Measured(value, math.sqrt(p * (1 - p) / n))


def _growth(now: Any, before: Any) -> Measured:
    value = _ratio(now, before)
    if value is None or not now:
        return Measured(value)
    return Measured(value, value * math.sqrt(1 / float(now) + 1 / float(before)))


def report(figures: list[dict[str, Any]], cells: Cells, year: int) -> pd.DataFrame:
    """One row per figure: the finding, published and measured (formatted), the measured
    value's margin (MARGIN standard errors), their ratio, and whether the measured value is as
    published (``_status``)."""
    rows = []
    for figure in figures:
        found = measure_with_error(figure, cells, year)
        measured = found.value
        published = figure.get("expected", figure.get("at_least"))
        rows.append(
            {
                "id": figure["id"],
                "basis": figure.get("basis", "published"),
                "finding": figure["source"],
                "published": _published_text(figure),
                "measured": "no data" if measured is None else _format(figure, measured),
                "margin": ""
                if found.error is None
                else _format_margin(figure, MARGIN * found.error),
                "ratio": None if measured is None or not published else measured / published,
                "status": _status(figure, measured, found.error),
            }
        )
    return pd.DataFrame(rows)


def _status(figure: dict[str, Any], measured: float | None, error: float | None = None) -> str:
    """ "as published" within CLOSE_ENOUGH (and above any floor); else "within sampling
    error" when the gap is no more than two standard errors of the counts it rests on (a
    figure measured on a few hundred chatbot sessions cannot be held to 10%); else "differs"."""
    if measured is None:
        return "no data"
    floor = figure.get("at_least")
    expected = figure.get("expected")
    gaps = []
    if floor is not None and measured < floor:
        gaps.append(floor - measured)
    if expected is not None and abs(measured / expected - 1) > CLOSE_ENOUGH:
        gaps.append(abs(measured - expected))
    if not gaps:
        return "as published"
    if error is not None and max(gaps) <= MARGIN * error:
        return "within sampling error"
    return "differs"


def _format_margin(figure: dict[str, Any], margin: float) -> str:
    if figure["metric"] == "growth":
        return f"± {margin:.2f}"
    return f"± {margin * 100:.1f} pts"


def _published_text(figure: dict[str, Any]) -> str:
    parts = []
    if "at_least" in figure:
        parts.append("at least " + _format(figure, figure["at_least"]))
    if "expected" in figure:
        parts.append(_format(figure, figure["expected"]))
    return "; calibrated ".join(parts) if len(parts) == 2 else parts[0]


def _format(figure: dict[str, Any], value: float) -> str:
    metric = figure["metric"]
    if metric in ("share", "read_within", "top_channels_share", "ratio"):
        return f"{value:.1%}"
    if metric == "growth":
        return f"x{value:.2f} ({value - 1:+.0%})"
    if metric == "mean":
        return f"{value:.1f} s"
    return f"{value:.2f}"


def _where(frame: pd.DataFrame, where: dict[str, Any] | None) -> pd.DataFrame:
    for column, value in (where or {}).items():
        frame = frame[frame[column] == value]
    return frame


def _ratio(numerator: Any, denominator: Any) -> float | None:
    return float(numerator) / float(denominator) if denominator else None
