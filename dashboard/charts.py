"""Pure Altair chart builders: frames in, ``alt.Chart`` out, no Streamlit inside."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.labels import label


def channel_bars(frame: pd.DataFrame) -> alt.Chart:
    """Interactions per channel, largest first."""
    return (
        alt.Chart(frame, title="Interactions by channel, last hour")
        .mark_bar()
        .encode(
            x=alt.X("interactions:Q", title="Interactions"),
            y=alt.Y("channel:N", sort="-x", title="Channel"),
            tooltip=["channel:N", alt.Tooltip("interactions:Q", format=",")],
        )
    )


def monthly_channel_volume(frame: pd.DataFrame) -> alt.Chart:
    """Interactions per month, stacked by channel (each channel its fixed colour), the
    comparison period's months drawn beside the current ones."""
    return (
        alt.Chart(frame, title="Interactions per month, by channel")
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title="Month"),
            y=alt.Y("interactions:Q", title="Interactions", stack="zero"),
            color=alt.Color("channel:N", title="Channel"),
            order=alt.Order("interactions:Q", sort="descending"),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="Month"),
                "channel:N",
                alt.Tooltip("interactions:Q", format=","),
            ],
        )
    )


def minute_lines(frame: pd.DataFrame) -> alt.Chart:
    """Interactions per minute, one line per channel."""
    return (
        alt.Chart(frame, title="Last hour, per minute")
        .mark_line(point=True)
        .encode(
            x=alt.X("minute:T", title="Minute (UTC)"),
            y=alt.Y("interactions:Q", title="Interactions"),
            color=alt.Color("channel:N", title="Channel"),
            tooltip=["minute:T", "channel:N", alt.Tooltip("interactions:Q", format=",")],
        )
    )


def channel_mix_stacked(frame: pd.DataFrame) -> alt.FacetChart:
    """Channel mix per industry and year, each bar stacked to 100%."""
    # A facet header's label expression is not applied where Streamlit draws it (seen in the
    # browser test's screenshot): the panels are named by a label column instead.
    frame = frame.assign(panel=[label("industry", i) for i in frame["industry"]])
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year"),
            y=alt.Y("interactions:Q", stack="normalize", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color("channel:N", title="Channel"),
            order=alt.Order("interactions:Q", sort="descending"),
            tooltip=[
                "industry:N",
                "year:O",
                "channel:N",
                alt.Tooltip("interactions:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=140, height=220)
        .facet(facet=alt.Facet("panel:N", title=None), columns=5)
        .properties(title="Channel mix per industry and year (100% each)")
    )


def share_shift_bars(frame: pd.DataFrame) -> alt.Chart:
    """Shift of each channel's share, period minus comparison, in share points."""
    return (
        alt.Chart(frame, title="Shift in channel share versus the comparison period")
        .mark_bar()
        .encode(
            x=alt.X("share_shift:Q", title="Share shift", axis=alt.Axis(format="+%")),
            y=alt.Y("channel:N", sort="-x", title="Channel"),
            color=alt.condition(
                "datum.share_shift >= 0", alt.value("#2e7d32"), alt.value("#c62828")
            ),
            tooltip=[
                "channel:N",
                alt.Tooltip("period_share:Q", format=".1%", title="Share in the period"),
                alt.Tooltip("comparison_share:Q", format=".1%", title="Share before"),
                alt.Tooltip("share_shift:Q", format="+.1%", title="Shift"),
            ],
        )
    )


def share_bars(frame: pd.DataFrame, category: str, title: str) -> alt.Chart:
    """Shares of ``category`` per year, each year stacked to 100%."""
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year"),
            y=alt.Y("share:Q", stack="normalize", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color(f"{category}:N", title=category.replace("_", " ").capitalize()),
            tooltip=["year:O", f"{category}:N", alt.Tooltip("share:Q", format=".1%")]
            + [alt.Tooltip(c, format=",") for c in frame.columns if c in ("interactions", "calls")],
        )
    )


def use_case_channel_bars(frame: pd.DataFrame) -> alt.Chart:
    """Each use case's channel mix, one 100% bar per use case."""
    return (
        alt.Chart(frame, title="Channel mix of each use case")
        .mark_bar()
        .encode(
            y=alt.Y("use_case:N", title="Use case"),
            x=alt.X("share:Q", stack="normalize", title="Share", axis=alt.Axis(format="%")),
            color=alt.Color("channel:N", title="Channel"),
            order=alt.Order("share:Q", sort="descending"),
            tooltip=[
                "use_case:N",
                "channel:N",
                alt.Tooltip("interactions:Q", format=","),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
    )


def duration_lines(frame: pd.DataFrame, time_field: str, time_type: str = "T") -> alt.Chart:
    """IVR mean, p50 and p90 call duration over time (seconds)."""
    long = frame.melt(
        id_vars=[time_field, "calls"],
        value_vars=["mean_s", "p50_bin_s", "p90_bin_s"],
        var_name="measure",
        value_name="seconds",
    )
    long["measure"] = long["measure"].map(
        {"mean_s": "mean", "p50_bin_s": "p50 (bin)", "p90_bin_s": "p90 (bin)"}
    )
    return (
        alt.Chart(long, title="IVR call duration")
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{time_field}:{time_type}", title=time_field.capitalize()),
            y=alt.Y("seconds:Q", title="Seconds"),
            color=alt.Color("measure:N", title="Measure"),
            tooltip=[
                f"{time_field}:{time_type}",
                "measure:N",
                alt.Tooltip("seconds:Q", format=".1f"),
                alt.Tooltip("calls:Q", format=","),
            ],
        )
    )


def grouped_bars(frame: pd.DataFrame, x: str, y: str, color: str, title: str) -> alt.Chart:
    """Bars of ``y`` per ``x``, side by side per ``color`` (e.g. calls per purpose and year).

    Shares and rates (a ``y`` ending in ``share`` or ``rate``) read as percentages."""
    percent = y.endswith(("share", "rate"))
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:N", title=x.replace("_", " ").capitalize(), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset(f"{color}:N"),
            y=alt.Y(
                f"{y}:Q",
                title=y.replace("_", " ").capitalize(),
                axis=alt.Axis(format="%" if percent else ",~r"),
            ),
            color=alt.Color(f"{color}:N", title=color.replace("_", " ").capitalize()),
            tooltip=[
                f"{x}:N",
                f"{color}:N",
                alt.Tooltip(f"{y}:Q", format=".1%" if percent else ",.4~f"),
            ],
        )
    )


def share_measures(frame: pd.DataFrame, measures: dict[str, str], title: str) -> alt.Chart:
    """Several shares of one answer per year, side by side: ``measures`` maps each share column
    to its label (e.g. IVR calls asking for a person, trapped callers)."""
    long = frame.melt(
        id_vars=["year"], value_vars=list(measures), var_name="measure", value_name="share"
    ).dropna(subset=["share"])
    long["measure"] = long["measure"].map(measures)
    long["year"] = long["year"].astype(str)
    return grouped_bars(long, "measure", "share", "year", title)


def summed_shares(frame: pd.DataFrame, shares: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """One row a year: each share of ``shares`` (column -> (counted, out of)) from the year's
    summed counts, for an answer with rows per year and cell (never a mean of cell shares)."""
    counts = sorted({c for pair in shares.values() for c in pair})
    summed = frame.groupby("year", as_index=False)[counts].sum()
    for column, (counted, out_of) in shares.items():
        below = summed[out_of].where(summed[out_of] > 0)
        summed[column] = summed[counted] / below
    return summed[["year", *shares]]


def latency_histogram(frame: pd.DataFrame) -> alt.Chart:
    """Share of read pairs per read-latency bin (lower bound in seconds)."""
    return (
        alt.Chart(frame, title="Time from send to first read signal")
        .mark_bar()
        .encode(
            x=alt.X("latency_bin_s:O", title="Latency bin (s, lower bound)"),
            y=alt.Y("share:Q", title="Share of read pairs", axis=alt.Axis(format="%")),
            tooltip=[
                "latency_bin_s:O",
                alt.Tooltip("read_pairs:Q", format=","),
                alt.Tooltip("share:Q", format=".2%"),
            ],
        )
    )


def coverage_bars(frame: pd.DataFrame) -> alt.Chart:
    """Per channel, the share of sends whose first read signal was each kind of signal."""
    return (
        alt.Chart(frame, title="Read-signal coverage: share of sends with a read signal")
        .mark_bar()
        .encode(
            y=alt.Y("channel:N", title="Channel"),
            x=alt.X("share_of_sends:Q", title="Share of sends", axis=alt.Axis(format="%")),
            color=alt.Color("read_signal:N", title="Signal"),
            tooltip=[
                "channel:N",
                "read_signal:N",
                alt.Tooltip("read_pairs:Q", format=","),
                alt.Tooltip("sends:Q", format=","),
                alt.Tooltip("share_of_sends:Q", format=".1%"),
            ],
        )
    )


def published_vs_measured(frame: pd.DataFrame) -> alt.Chart:
    """Each finding's measured value as a ratio to the published figure (1 = as published),
    named by its id written as words."""
    frame = frame.assign(figure=frame["id"].str.replace("_", " ", regex=False))
    return (
        alt.Chart(frame, title="Measured / published (1 = the published figure)")
        .mark_point(filled=True, size=90)
        .encode(
            x=alt.X("ratio:Q", title="Measured / published", scale=alt.Scale(zero=False)),
            y=alt.Y("figure:N", title=None, sort=None),
            color=alt.Color(
                "status:N",
                title="Status",
                scale=alt.Scale(
                    domain=["as published", "within sampling error", "differs", "no data"],
                    range=["#2e7d32", "#f9a825", "#c62828", "#9e9e9e"],
                ),
            ),
            tooltip=[
                "finding:N",
                "published:N",
                "measured:N",
                "margin:N",
                alt.Tooltip("ratio:Q", format=".3f"),
            ],
        )
    )
