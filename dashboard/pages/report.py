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
matched = int((table["status"] == "as published").sum())
st.metric(f"Findings reproduced in {year}", f"{matched} of {len(table)}")
st.caption(
    f"'As published' means within {report.CLOSE_ENOUGH:.0%} of the published figure (and above "
    "any 'more than' floor). Read speed is timed from the send to the first read signal. "
    "Tenant filter applies; industry, use case and channel are part of each finding."
)
# A static table: 25 rows need no scrolling grid, and it draws at once.
st.table(table.drop(columns=["id"]).set_index("finding"))
context.chart(
    table, lambda f: charts.published_vs_measured(f.dropna(subset=["ratio"])), "report", ctx
)
