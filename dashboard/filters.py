"""The filters every page shares: period, comparison period, tenant, industry, use case, channel.

The comparison period defaults to the previous year aligned on the same weekday (364 days
earlier), so a Monday is compared with a Monday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import streamlit as st

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


def aligned_comparison(start: date, end: date) -> tuple[date, date]:
    """The same period a year earlier, on the same weekdays."""
    return start - ALIGNED_YEAR, end - ALIGNED_YEAR


def sidebar(default_start: date, default_end: date) -> Filters:
    """Draw the filters in the sidebar and return the choice."""
    with st.sidebar:
        st.header("Filters")
        start = st.date_input("From", default_start)
        last = st.date_input("To (inclusive)", default_end - timedelta(days=1))
        end = last + timedelta(days=1)
        compare_start, compare_end = aligned_comparison(start, end)
        st.caption(
            f"Compared with {compare_start} to {compare_end - timedelta(days=1)} "
            "(a year earlier, same weekdays)"
        )
        tenant = st.text_input("Tenant (empty = all)", "").strip()
        industry = st.selectbox("Industry", ("", *v.INDUSTRIES), format_func=_all)
        use_case = st.selectbox("Use case", ("", *v.USE_CASES), format_func=_all)
        channel = st.selectbox("Channel", ("", *v.CHANNELS), format_func=_all)
    return Filters(start, end, compare_start, compare_end, tenant, industry, use_case, channel)


def _all(value: str) -> str:
    return value or "all"
