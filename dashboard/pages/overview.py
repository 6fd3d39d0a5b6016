"""Overview: the six cards executives read first, each with its change versus the comparison."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.cards import CARDS, change

ctx = context.require("Overview")
now = context.run("overview_kpis", ctx.filters.params())
before = context.run("overview_kpis", ctx.filters.params(comparison=True))

columns = st.columns(3)
for i, card in enumerate(CARDS):
    value = now[card.key].iloc[0]
    previous = before[card.key].iloc[0]
    value = None if pd.isna(value) else float(value)
    previous = None if pd.isna(previous) else float(previous)
    columns[i % 3].metric(
        card.title,
        "n/a" if value is None else card.fmt.format(value),
        change(card, value, previous),
        delta_color=card.good,
        help="Change versus the comparison period"
        + (" (percentage points)" if card.kind == "share" else ""),
    )

export = pd.concat(
    [now.assign(period_kind="current"), before.assign(period_kind="comparison")],
    ignore_index=True,
)
context.download(export, "overview", ctx)
