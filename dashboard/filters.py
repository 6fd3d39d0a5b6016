"""The filters every page shares: period, comparison period, tenant, industry, use case, channel.

The comparison period defaults to the previous year aligned on the same weekday (364 days
earlier), so a Monday is compared with a Monday.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import streamlit as st

from dashboard import labels
from streams import vocabulary as v

ALIGNED_YEAR = timedelta(days=364)


@dataclass(frozen=True)
class Filters:
    """What the reader chose; ``''`` means all."""

    start: date
    end: date  # exclusive
    compare_start: date
    compare_end: date
    tenant: str
    industry: str
    use_case: str
    channel: str

    def params(self, comparison: bool = False) -> dict[str, object]:
        """Bound parameters of the named queries for the period (or the comparison period)."""
        start, end = (
            (self.compare_start, self.compare_end) if comparison else (self.start, self.end)
        )
        return {
            "start": datetime.combine(start, datetime.min.time()),
            "end": datetime.combine(end, datetime.min.time()),
            "tenant": self.tenant,
            "industry": self.industry,
            "use_case": self.use_case,
            "channel": self.channel,
        }

    def both_params(self) -> dict[str, object]:
        """Bound parameters covering the comparison period and the period together (charts per
        year or month that show the change)."""
        start = min(self.start, self.compare_start)
        end = max(self.end, self.compare_end)
        return self.params() | {
            "start": datetime.combine(start, datetime.min.time()),
            "end": datetime.combine(end, datetime.min.time()),
        }

    def context(self) -> dict[str, str]:
        """The filter context, written into every CSV download."""
        return {
            "period": f"{self.start} to {self.end - timedelta(days=1)}",
            "comparison_period": f"{self.compare_start} to {self.compare_end - timedelta(days=1)}",
            "tenant": self.tenant or "all",
            "industry": self.industry or "all",
            "use_case": self.use_case or "all",
            "channel": self.channel or "all",
        }


COMPARISONS = {
    "aligned_year": "Previous year, same weekdays",
    "same_dates": "Previous year, same dates",
    "previous_period": "The period just before",
}


def aligned_comparison(start: date, end: date) -> tuple[date, date]:
    """The same period a year earlier, on the same weekdays: 52 weeks earlier, or 53 for a
    period longer than 52 weeks (a whole year is 365 or 366 days), so the two never overlap
    and have the same length."""
    weeks = max(ALIGNED_YEAR.days // 7, -(-(end - start).days // 7))
    shift = timedelta(weeks=weeks)
    return start - shift, end - shift


def comparison_period(start: date, end: date, mode: str) -> tuple[date, date]:
    """The comparison period for ``mode`` (a key of ``COMPARISONS``)."""
    if mode == "aligned_year":
        return aligned_comparison(start, end)
    if mode == "same_dates":
        return _year_before(start), _year_before(end)
    if mode == "previous_period":
        return start - (end - start), start
    raise ValueError(f"unknown comparison {mode!r}; known: {', '.join(COMPARISONS)}")


def _year_before(day: date) -> date:
    # 29 February has no twin a year earlier: take the 28th.
    return day.replace(year=day.year - 1, day=min(day.day, 28 if day.month == 2 else 31))


def parse_period(text: str, today: date) -> tuple[date, date]:
    """A period as people name it, as [start, end): ``2021`` (a calendar year), ``2021-03`` (a
    month), ``last-week`` (the last whole week, Monday to Sunday, before today),
    ``last-month`` (the last whole calendar month), or ``2021-03-01..2021-03-31`` (both days
    included). Anything else is an error that lists these forms."""
    forms = "YYYY, YYYY-MM, last-week, last-month or YYYY-MM-DD..YYYY-MM-DD"
    try:
        if text == "last-week":
            monday = today - timedelta(days=today.weekday() + 7)
            return monday, monday + timedelta(days=7)
        if text == "last-month":
            first = today.replace(day=1)
            return (first - timedelta(days=1)).replace(day=1), first
        if ".." in text:
            first_text, last_text = text.split("..", 1)
            first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
            if last < first:
                raise ValueError(f"the period {text!r} ends before it starts")
            return first, last + timedelta(days=1)
        if len(text) == 4 and text.isdigit():
            return date(int(text), 1, 1), date(int(text) + 1, 1, 1)
        if len(text) == 7 and text[4] == "-":
            first = date(int(text[:4]), int(text[5:]), 1)
            return first, (first + timedelta(days=31)).replace(day=1)
    except ValueError as exc:
        raise ValueError(f"period {text!r}: {exc}; expected {forms}") from None
    raise ValueError(f"period {text!r}: expected {forms}")


def default_period(years_with_data: list[int], today: date) -> tuple[date, date]:
    """The latest full calendar year holding data, else the current year to date.

    Executives compare whole years; a half-filled current year against a full previous one
    would read as a collapse.
    """
    full = [y for y in years_with_data if y < today.year]
    if full:
        year = max(full)
        return date(year, 1, 1), date(year + 1, 1, 1)
    return date(today.year, 1, 1), today + timedelta(days=1)


def sidebar(default_start: date, default_end: date, tenants: Sequence[str] = ()) -> Filters:
    """Draw the filters in the sidebar and return the choice; the tenant is chosen from
    ``tenants``, those the data holds.

    Drawn by the entry point, before the page runs, so the choice survives page changes.
    """
    with st.sidebar:
        st.header("Filters")
        start = st.date_input("From", default_start, key="filter_start")
        last = st.date_input("To (inclusive)", default_end - timedelta(days=1), key="filter_end")
        end = last + timedelta(days=1)
        if end <= start:
            st.warning("'To' is before 'From': showing the single day 'From'.")
            end = start + timedelta(days=1)
        mode = st.selectbox(
            "Compare with",
            tuple(COMPARISONS),
            format_func=COMPARISONS.__getitem__,
            key="filter_comparison",
        )
        compare_start, compare_end = comparison_period(start, end, mode)
        st.caption(f"Comparison: {compare_start} to {compare_end - timedelta(days=1)}")
        # A tenant the data no longer holds (or never did) falls back to all.
        if st.session_state.get("filter_tenant", "") not in ("", *tenants):
            st.session_state["filter_tenant"] = ""
        tenant = st.selectbox(
            "Tenant", ("", *tenants), format_func=lambda t: t or "all", key="filter_tenant"
        )
        industry = st.selectbox(
            "Industry", ("", *v.INDUSTRIES), format_func=_all("industry"), key="filter_industry"
        )
        use_case = st.selectbox(
            "Use case", ("", *v.USE_CASES), format_func=_all("use_case"), key="filter_use_case"
        )
        channel = st.selectbox(
            "Channel", ("", *v.CHANNELS), format_func=_all("channel"), key="filter_channel"
        )
    return Filters(start, end, compare_start, compare_end, tenant, industry, use_case, channel)


def _all(field: str) -> Callable[[str], str]:
    """How a filter's options read: their labels, and "all" for none."""
    return lambda value: labels.label(field, value) if value else "all"
