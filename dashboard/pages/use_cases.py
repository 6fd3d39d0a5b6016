"""Use cases: their shares per year, and each use case's channel mix."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, context

ctx = context.require("Use cases")
# Shares per year over the comparison and the period together, so the change is visible.
shares = context.run(
    "use_case_shares",
    ctx.filters.both_params(),
    why={"use_case": "the chart compares the use cases"},
)
context.chart(
    shares,
    lambda f: charts.share_bars(f, "use_case", "Use-case shares per year"),
    "use_case_shares",
    ctx,
)
st.subheader("Channel mix of each use case")
mix = context.run(
    "use_case_channel_mix", ctx.filters.params(), why={"channel": "the chart compares the channels"}
)
context.chart(mix, charts.use_case_channel_bars, "use_case_channel_mix", ctx)
