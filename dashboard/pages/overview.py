"""Overview: the six cards executives read first, each with its change versus the comparison."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context
from dashboard.cards import CARDS

ctx = context.require("Overview")
now = context.run("overview_kpis", ctx.filters.params())
before = context.run("overview_kpis", ctx.filters.params(comparison=True))

columns = st.columns(3)
for i, card in enumerate(CARDS):
    context.show_card(columns[i % 3], card, now, before)

export = pd.concat(
    [now.assign(period_kind="current"), before.assign(period_kind="comparison")],
    ignore_index=True,
)
context.download(export, "overview", ctx)
