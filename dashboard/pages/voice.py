"""Voice: IVR duration by month and year, IVR outcomes (containment), notification calls.

Calls are all on the phone channel, so the channel filter does not apply here.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, context

ctx = context.require("Voice")
both = ctx.filters.both_params()
CALLS = {"channel": "every call is on the phone channel"}
by_year = context.run("ivr_duration_by_year", both, why=CALLS)
if by_year.empty:
    st.info("No IVR call in this period for these filters.")
else:
    columns = st.columns(len(by_year.index))
    for column, row in zip(columns, by_year.itertuples(), strict=True):
        column.metric(
            f"IVR mean call duration {row.year}",
            f"{row.mean_s:.1f} s",
            help=f"{row.calls:,} calls; p50 bin {row.p50_bin_s} s, p90 bin {row.p90_bin_s} s",
        )
    context.download(by_year, "ivr_duration_by_year", ctx)
by_month = context.run("ivr_duration_by_month", both, why=CALLS)
context.chart(by_month, lambda f: charts.duration_lines(f, "month"), "ivr_duration_by_month", ctx)

st.subheader("IVR outcomes (self-served = contained)")
outcomes = context.run("ivr_outcomes", both, why=CALLS)
context.chart(
    outcomes,
    lambda f: charts.share_bars(f, "outcome", "IVR outcomes per year"),
    "ivr_outcomes",
    ctx,
)

st.subheader("Notification calls by purpose")
purposes = context.run("notification_calls_by_purpose", both, why=CALLS)
context.chart(
    purposes,
    lambda f: charts.grouped_bars(f, "purpose", "notification_calls", "year", "Calls"),
    "notification_calls_by_purpose",
    ctx,
    empty="No notification call in this period for these filters.",
)
