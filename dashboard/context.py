"""What every page shares: the data's span and freshness, the sidebar filters, the page header,
and CSV downloads that carry the filter context.

The entry point (``app.py``) calls :func:`prepare` before the page runs: the filters are
drawn there so the reader's choice survives a change of page. Pages call :func:`require`.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import cards, completeness, data, filters, labels
from streams.clickhouse import queries
from streams.clickhouse.queries import QUERIES_DIR

STATE_KEY = "journey_page_context"
DECLARED_KEY = "journey_filters_declared"  # the filter lines this page run has shown
COVERAGE = "contract_1_1_coverage"  # which events carry contract 1.1's fields
T = TypeVar("T")


@dataclass(frozen=True)
class PageContext:
    """The filters chosen and how fresh the data is."""

    filters: filters.Filters
    years: list[int]
    last_day: datetime | None
    last_flush_at: datetime | None
    # Unacknowledged records the topic deleted before they were applied (``lost_offsets``).
    losses: pd.DataFrame | None = None


def prepare() -> None:
    """Load the data's span, draw the filters, and keep the outcome for the page."""
    try:
        span = data.run("data_years", {})
    except data.DataUnavailable as exc:
        st.session_state[STATE_KEY] = str(exc)
        return
    if span.empty:
        st.session_state[STATE_KEY] = None
        return
    years = [int(y) for y in span["year"]]
    start, end = filters.default_period(years, datetime.now(UTC).date())
    tenants = data.run("tenants", {})
    chosen = filters.sidebar(start, end, [str(t) for t in tenants["tenant"]])
    last_day = _timestamp(span["last_day"].max())
    last_flush = _timestamp(span["last_flush_at"].iloc[0])
    try:
        found = data.run("lost_offsets", {})
        losses = found[~found["acknowledged"].astype(bool)] if not found.empty else None
    except data.DataUnavailable:  # a schema older than the losses table: nothing to warn of
        losses = None
    st.session_state[STATE_KEY] = PageContext(chosen, years, last_day, last_flush, losses)


def require(title: str) -> PageContext:
    """Draw the page title and freshness line; stop the page with a readable message when the
    data store is unreachable or empty."""
    st.title(title)
    state = st.session_state.get(STATE_KEY)
    if isinstance(state, str):
        st.error(f"The data store is unreachable right now. {state}")
        st.stop()
    if not isinstance(state, PageContext):
        st.info("No interactions yet. `journey up` backfills two calibrated years to explore.")
        st.stop()
    assert isinstance(state, PageContext)  # for mypy: st.stop() does not return
    st.caption(freshness_line(state))
    st.session_state[DECLARED_KEY] = set()
    for warning in loss_warnings(state.losses, state.filters):
        st.warning(warning)
    stale = stale_warning(state.last_flush_at, state.filters.end, datetime.now(UTC))
    if stale:
        st.warning(stale)
    try:
        complete = data.run("period_completeness", state.filters.params())
    except data.DataUnavailable:  # the freshness line already said when the data is from
        complete = pd.DataFrame()
    if not complete.empty:
        st.caption(completeness_line(dict(complete.iloc[0])))
    return state


# Data older than this, on a period that reaches today, is behind: the worker flushes every
# few seconds while records arrive.
EXPECTED_FRESHNESS = timedelta(minutes=10)


def stale_warning(last_flush: datetime | None, period_end: date, now: datetime) -> str | None:
    """A warning when the period shown reaches today and the worker's last write is older than
    ``EXPECTED_FRESHNESS`` (a past period's figures are as fresh as they will get)."""
    if period_end <= now.date() or last_flush is None:
        return None
    age = _naive_utc(now) - _naive_utc(last_flush)
    if age <= EXPECTED_FRESHNESS:
        return None
    minutes = int(age.total_seconds() // 60)
    return (
        f"The newest data is {minutes:,} minutes old: the worker has written nothing since "
        f"{last_flush:%Y-%m-%d %H:%M} UTC, so today's figures are incomplete (journey status "
        "says why)."
    )


def _naive_utc(moment: datetime) -> datetime:
    """ClickHouse's times come back naive (UTC); the clock's are aware: compare them as UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def completeness_line(row: Mapping[str, Any]) -> str:
    """How complete the period's figures are (``period_completeness``): late arrivals among
    its interactions, and records rejected while it ran."""
    interactions = int(row.get("interactions") or 0)
    late = int(row.get("late") or 0)
    rejected = int(row.get("dead_letters") or 0)
    share = f" ({late / interactions:.2%})" if interactions else ""
    return (
        f"Completeness: {late:,} of the period's {interactions:,} interactions arrived late"
        f"{share}, applied all the same; {rejected:,} records were rejected while it ran "
        "(dead letters, of any tenant: Live lists them by reason)."
    )


# A lost record's event time is unknown: it was published after the records its partition had
# applied (their watermark, less the lateness the contract allows) and before the gap was found
# (plus the day of clock skew the publisher accepts).
LOSS_EARLIEST = timedelta(days=1)
LOSS_LATEST = timedelta(days=1)


def loss_warnings(losses: pd.DataFrame | None, chosen: filters.Filters) -> list[str]:
    """One warning per unacknowledged loss whose possible event times touch the period shown
    or its comparison period."""
    if losses is None or losses.empty:
        return []
    out = []
    for row in losses.to_dict("records"):
        after = _timestamp(row["after_watermark"])
        detected = _timestamp(row["detected_at"])
        first = (after - LOSS_EARLIEST).date() if after else date.min
        last = (detected + LOSS_LATEST).date() if detected else date.max
        periods = [(chosen.start, chosen.end), (chosen.compare_start, chosen.compare_end)]
        if any(start <= last and end > first for start, end in periods):
            out.append(
                f"{int(row['lost']):,} records of {row['kafka_topic']} partition "
                f"{row['kafka_partition']} (offsets {row['first_offset']}-{row['last_offset']}) "
                "were deleted from Kafka before "
                f"they were counted: figures from {first:%Y-%m-%d} on may be short. An operator "
                "acknowledges this with `journey losses --acknowledge`."
            )
    return out


def freshness_line(ctx: PageContext) -> str:
    """When the data was last updated, and the period shown (the 'last updated' of every page)."""
    context = ctx.filters.context()
    flushed = (
        f"last updated {ctx.last_flush_at:%Y-%m-%d %H:%M:%S} UTC (the worker's last write)"
        if ctx.last_flush_at
        else "last updated: unknown (no worker write recorded)"
    )
    events = f"events up to {ctx.last_day:%Y-%m-%d}" if ctx.last_day else "no events"
    chosen = [
        f"{name.replace('_', ' ')} {labels.label(name, context[name])}"
        for name in ("tenant", "industry", "use_case", "channel")
        if context[name] != "all"
    ]
    return (
        f"Data {flushed}; {events}. Showing {context['period']}, "
        f"compared with {context['comparison_period']}; "
        + (
            f"filtered to {', '.join(chosen)}."
            if chosen
            else "all tenants, industries, use cases, channels."
        )
    )


# The sidebar's filters, as the named queries name their parameters, and as readers name them.
FILTER_LABELS = {"tenant": "tenant", "industry": "industry", "use_case": "use case",
                 "channel": "channel"}  # fmt: skip


def run(
    name: str, params: Mapping[str, object], why: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """A named query for the page; an unreachable store stops the page with a readable message.

    Every filter the reader chose reaches the query, or the page says, before the figure, that
    it does not apply and why (``why``, by filter, else: the data has no such breakdown)."""
    shown = st.session_state.setdefault(DECLARED_KEY, set())
    for line in unapplied_filters(name, params, why or {}):
        if line not in shown:  # once a page: several figures may share the reason
            shown.add(line)
            st.caption(line)
    return available(data.run, name, dict(params))


def unapplied_filters(name: str, params: Mapping[str, object], why: Mapping[str, str]) -> list[str]:
    """One line per filter the reader chose (a non-empty value in ``params``) that the named
    query ``name`` takes no parameter for: ``why[filter]``, else ``UNDECLARED`` (a page test
    fails on it: a query that can take a filter should, and one that cannot says why)."""
    taken = _parameters(name)
    return [
        f"Not filtered by {label} ({params[key]}): {why.get(key, UNDECLARED)}."
        for key, label in FILTER_LABELS.items()
        if params.get(key) and key not in taken
    ]


UNDECLARED = "this figure does not take it"


def _parameters(name: str) -> frozenset[str]:
    # an unknown name: load's error, which lists the known ones
    return frozenset((_query(name) or queries.load(name)).parameters)


@functools.cache
def _query(name: str) -> queries.NamedQuery | None:
    """The named query ``name`` (None: no such file), read once, not on every draw of every
    figure."""
    if not (QUERIES_DIR / f"{name}.sql").exists():
        return None
    return queries.load(name)


def available(fetch: Callable[..., T], *args: Any) -> T:
    """``fetch(*args)``; when the store is unreachable the page stops with a readable message."""
    try:
        found = fetch(*args)
        if isinstance(found, pd.DataFrame) and data.SOURCE in found.attrs:
            _remember_source(found)
        return found
    except data.DataUnavailable as exc:
        st.error(f"The data store is unreachable right now. {exc}")
        st.stop()
        raise  # not reached: st.stop() raises


def chart(
    frame: pd.DataFrame,
    build: Callable[[pd.DataFrame], alt.Chart | alt.FacetChart],
    name: str,
    ctx: PageContext,
    empty: str = "Nothing in this period for these filters.",
) -> None:
    """Draw ``build(frame)`` with its CSV download (the frame plus the filter context), or say
    the frame is empty (an empty answer has no columns to chart)."""
    if frame.empty:
        st.info(empty)
        return
    code = build.__code__
    site = f"{code.co_filename}:{code.co_firstlineno}:{name}"
    source = _source_of(frame)
    # The very frame a cached answer gave is keyed by that answer; a frame the page derived,
    # by its content.
    spec = _chart_spec(site, frame if source is None else source, frame, build)
    st.vega_lite_chart(spec=spec, width="stretch")
    tile_note(frame, name, ctx)
    download(frame, name, ctx)


KIND_COMPLETENESS = "kind_completeness"


def tile_note(frame: pd.DataFrame, name: str, ctx: PageContext) -> None:
    """Under a figure: when its answer was read, how many of the interactions it counts arrived
    late, and a warning when those kinds stopped arriving (``dashboard/completeness.py``).
    ``name`` is the figure's named query (else the query the frame came from says)."""
    kinds = _kinds(name) or _kinds(data.source_query(frame))
    if not kinds:
        return
    try:
        figures = completeness.by_kind(
            data.run(KIND_COMPLETENESS, ctx.filters.params()).to_dict("records")
        )
    except data.DataUnavailable:  # the figure itself was read: say nothing more of it
        return
    now = datetime.now(UTC)
    st.caption(completeness.note(kinds, figures, data.fetched_at(frame) or now))
    warning = completeness.quiet_warning(kinds, figures, now, ctx.filters.end > now.date())
    shown = st.session_state.setdefault(DECLARED_KEY, set())
    if warning and warning not in shown:  # once a page: the figures below say the same
        shown.add(warning)
        st.warning(warning)


def _kinds(name: str) -> tuple[str, ...]:
    """The kinds the named query ``name`` counts (none for a name that is not a query)."""
    found = _query(name)
    return found.kinds if found else ()


Builder = Callable[[pd.DataFrame], alt.Chart | alt.FacetChart]
# id(frame) -> (a weak reference to it, its source): which frames on this server are exactly
# what a cached answer returned. Hashing a frame's content to key its chart cost more than a
# quarter of a page draw; the source label (data.sourced) is as exact and costs nothing.
_SOURCES: dict[int, tuple[weakref.ref[pd.DataFrame], str]] = {}


def _remember_source(frame: pd.DataFrame) -> None:
    key = id(frame)
    _SOURCES[key] = (
        weakref.ref(frame, lambda _ref: _SOURCES.pop(key, None)),
        frame.attrs[data.SOURCE],
    )


def _source_of(frame: pd.DataFrame) -> str | None:
    entry = _SOURCES.get(id(frame))
    if entry is None or entry[0]() is not frame:
        return None
    return entry[1]


@st.cache_data(ttl=data.CACHE_TTL_S, show_spinner=False, max_entries=1000)
def _chart_spec(
    site: str, key: str | pd.DataFrame, _frame: pd.DataFrame, _build: Builder
) -> dict[str, Any]:
    """The Vega-Lite spec of ``_build(_frame)`` (its data as Arrow datasets), shared by every
    session for the cache's lifetime: readers of the same view build each chart once.
    ``site`` (where the builder is defined, and the chart's name) and ``key`` (the frame's
    source, or the frame itself, hashed by content) are the cache key; the builder is not
    hashed."""
    return altair_spec(_build(_frame))


def altair_spec(chart: alt.Chart | alt.FacetChart) -> dict[str, Any]:
    """What ``st.altair_chart`` sends for ``chart``, as ``st.vega_lite_chart`` takes it.

    Streamlit's own conversion (Arrow datasets, its theme handling) is private API of the
    pinned streamlit (``tests/unit/dashboard/test_charts.py`` fails if it moves): it is used
    here only."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    return labels.readable(dict(_convert_altair_to_vega_lite_spec(chart)))


def comparison_cards(
    name: str,
    chosen: Sequence[cards.Card],
    ctx: PageContext,
    why: Mapping[str, str] | None = None,
    rows: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame,
    coverage: cards.Card | None = None,
    extra: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """One row of cards from the named query ``name``: each card's value over the period and
    its change versus the comparison period (``cards.change``), coloured by whether up is
    good. ``rows`` picks the rows the cards sum (one channel, say). ``coverage``, a card of
    ``contract_1_1_coverage``, ends the row: how many of the events carry the fields the
    cards rest on. Returns the answer over both periods, for the charts below the cards (a
    chart per year draws the comparison period beside the current one). ``extra``: parameters
    the query takes beyond the filters (a window)."""
    more = dict(extra or {})
    now = run(name, ctx.filters.params() | more, why)
    before = run(name, ctx.filters.params(comparison=True) | more, why)
    columns = st.columns(len(chosen) + (coverage is not None))
    for column, card in zip(columns, chosen, strict=False):
        show_card(column, card, rows(now), rows(before))
    if coverage is not None:
        show_card(
            columns[-1],
            coverage,
            run(COVERAGE, ctx.filters.params()),
            run(COVERAGE, ctx.filters.params(comparison=True)),
        )
    tile_note(now, name, ctx)
    return run(name, ctx.filters.both_params() | more, why)


def show_card(
    column: Any,
    card: cards.Card,
    now: pd.DataFrame,
    before: pd.DataFrame,
    trend: Sequence[float] | None = None,
) -> None:
    """``card`` in ``column``: its value over ``now`` and its change from ``before``, with
    ``trend`` (the period month by month) drawn under it."""
    value, previous = cards.period_value(card, now), cards.period_value(card, before)
    column.metric(
        card.title,
        "n/a" if value is None else card.fmt.format(value),
        cards.change(card, value, previous),
        delta_color=card.good,
        help="Change versus the comparison period"
        + (" (percentage points)" if card.kind == "share" else "")
        + ("; the line: the period month by month" if trend else ""),
        chart_data=list(trend) if trend else None,
    )


def download(frame: pd.DataFrame, name: str, ctx: PageContext) -> None:
    """A CSV download of ``frame`` whose every row carries the filters it was drawn with, the
    as-of time of the data (the worker's last write) and the figure's definition.

    The CSV is made when the reader clicks, not on every draw of the page."""
    st.download_button(
        f"Download {name.replace('_', ' ')} (CSV, with the filters and definition)",
        functools.partial(
            csv_with_context, frame, ctx.filters, ctx.last_flush_at, definition(frame, name)
        ),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"download_{name}",
    )


def definition(frame: pd.DataFrame, name: str) -> str:
    """What the figure is: the description of the named query its data came from (the
    frame's source, else the download's name), or '' for a figure no one query answers."""
    for query in (data.source_query(frame), name):
        found = _query(query) if query else None
        if found and found.description:
            return found.description
    return ""


def csv_with_context(
    frame: pd.DataFrame,
    chosen: filters.Filters,
    as_of: datetime | None = None,
    meaning: str = "",
) -> str:
    """``frame`` as CSV, each row followed by the filter context (``filter_period``,
    ``filter_comparison_period``, ``filter_tenant`` ...; prefixed, as data has a channel column
    too), the data's as-of time (UTC) and the figure's definition."""
    context = {f"filter_{k}": v for k, v in chosen.context().items()}
    context["as_of_utc"] = "" if as_of is None else f"{as_of:%Y-%m-%d %H:%M:%S}"
    context["definition"] = meaning
    return frame.assign(**context).to_csv(index=False)


def year_bounds(years: list[int]) -> dict[str, datetime]:
    """Query bounds covering whole calendar years ``years``."""
    return {
        "start": datetime(min(years), 1, 1),
        "end": datetime(max(years) + 1, 1, 1),
    }


def _timestamp(value: Any) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.year < 1971:  # ClickHouse's "no value" for max() over nothing is the epoch
        return None
    return stamp.to_pydatetime().replace(tzinfo=None)
