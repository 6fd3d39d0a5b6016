"""Channel mix: per industry and year (each bar 100%), and the shift versus the comparison."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, context

ctx = context.require("Channel mix")
# The mix is the share of each channel: filtering by one would make it 100%.
MIX = {"channel": "the chart compares the channels"}
by_industry = context.run("channel_mix_by_industry", ctx.filters.both_params(), why=MIX)
context.chart(by_industry, charts.channel_mix_stacked, "channel_mix_by_industry", ctx)

st.subheader("Shift versus the comparison period")
comparison = ctx.filters.params(comparison=True)
shift = context.run(
    "channel_mix_shift",
    ctx.filters.params() | {"compare_start": comparison["start"], "compare_end": comparison["end"]},
    why=MIX,
)
context.chart(shift, charts.share_shift_bars, "channel_mix_shift", ctx)
if not shift.empty:
    top = shift.sort_values("period_share", ascending=False).head(4)
    st.caption(
        f"The top four channels ({', '.join(top['channel'])}) carry "
        f"{top['period_share'].sum():.1%} of the period's interactions."
    )
