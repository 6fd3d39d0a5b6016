"""Overview: the six cards executives read first, each with its change versus the comparison
and its trend line month by month; interactions per month by channel over both periods; and
what changed, written out (``dashboard/headlines.py``)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, context, headlines
from dashboard.cards import CARDS

ctx = context.require("Overview")
now = context.run("overview_kpis", ctx.filters.params())
before = context.run("overview_kpis", ctx.filters.params(comparison=True))

monthly = context.run("overview_monthly", ctx.filters.params())
columns = st.columns(3)
for i, card in enumerate(CARDS):
    trend = monthly[card.key].dropna().tolist() if not monthly.empty else []
    # One month has no trend to draw.
    context.show_card(columns[i % 3], card, now, before, trend if len(trend) > 1 else None)
context.tile_note(now, "overview_kpis", ctx)

volume = context.run("interactions_by_month", ctx.filters.both_params())
context.chart(volume, charts.monthly_channel_volume, "interactions_by_month", ctx)

st.subheader("What changed")
MIX = {"channel": "the mix compares channels"}
written = headlines.gather(
    lambda name, params: context.run(name, params, why=MIX if name == "headline_mix" else None),
    ctx.filters.params(),
    ctx.filters.params(comparison=True),
)
thresholds = headlines.Thresholds()
st.caption(
    f"Changes on at least {thresholds.min_volume} events a period; a share's shift of "
    f"{thresholds.min_points:.0f} point or more that a two-proportion test holds beyond "
    f"{thresholds.z:.0f} standard errors; a volume or mean moving {thresholds.min_relative:.0%} "
    "or more. Biggest effect first."
)
st.markdown(
    "\n".join(f"- {h.text}" for h in written)
    or "Nothing changed by enough, on enough events, to be stated."
)

export = pd.concat(
    [now.assign(period_kind="current"), before.assign(period_kind="comparison")],
    ignore_index=True,
)
context.download(export, "overview_kpis", ctx)
