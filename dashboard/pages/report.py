"""Report: the published findings (CSG, Sinch) beside the values measured on the same year."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard import charts, context, data, report

ctx = context.require("Report")
candidates = sorted({y for y in ctx.years if y - 1 in ctx.years} or set(ctx.years), reverse=True)
year = st.selectbox(
    "Measured year (the published figures are for 2021; growth is the year over the one before)",
    candidates,
    index=candidates.index(ctx.filters.start.year) if ctx.filters.start.year in candidates else 0,
)
bounds = {"start": datetime(year - 1, 1, 1), "end": datetime(year + 1, 1, 1)}
params = bounds | {"tenant": ctx.filters.tenant}
table = context.available(data.report_table, params, year)
published = table[table["basis"] == "published"]
model = table[table["basis"] == "model"]
matched = int((published["status"] == "as published").sum())
chance = int((published["status"] == "within sampling error").sum())
left, right = st.columns(2)
left.metric(f"Findings reproduced in {year}", f"{matched} of {len(published)}")
# Too few events to tell: neither reproduced nor refuted (few on a small tenant or period).
right.metric("Within their sampling error", f"{chance} of {len(published)}")
st.caption(
    f"'As published' means within {report.CLOSE_ENOUGH:.0%} of the published figure (and above "
    "any 'more than' floor); 'within sampling error' that the gap is no more than the margin, "
    f"{report.MARGIN:.0f} standard errors of the counts the value rests on. Read speed is "
    "timed from the send to the first read signal. "
    "Where a finding is about consumers (who used a chatbot, who is frustrated), the row says "
    "which measured proxy stands for it. Tenant filter applies; industry, use case and channel "
    "are part of each finding."
)
# A static table: 30 rows need no scrolling grid, and it draws at once.
st.table(published.drop(columns=["id", "basis"]).set_index("finding"))
context.chart(
    published,
    lambda f: charts.published_vs_measured(f.dropna(subset=["ratio"])),
    "report",
    ctx,
)
st.subheader("Modelling choices of ours, measured back")
st.caption(
    "No report gives these figures: they are the simulator's own settings (calibration.toml, "
    "marked 'ours'), shown so a reader sees them come back through the pipeline unchanged. "
    "On a brand's own data they are simply its measured values."
)
st.table(
    model.drop(columns=["id", "basis"])
    .rename(columns={"finding": "setting", "published": "modelled"})
    .set_index("setting")
)
