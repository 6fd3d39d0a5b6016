"""Overview: the six cards executives read first, each with its change versus the comparison."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import context

CARDS = (
    ("interactions", "Interactions", "{:,.0f}"),
    ("top4_channel_share", "Share of the top four channels", "{:.1%}"),
    ("smart_notification_share", "Smart-notification share", "{:.1%}"),
    ("ivr_mean_s", "IVR mean call duration (s)", "{:.1f}"),
    ("read_within_3_min_share", "Read within 3 minutes", "{:.1%}"),
    ("channels_per_journey", "Channels per journey", "{:.2f}"),
)

ctx = context.require("Overview")
now = context.run("overview_kpis", ctx.filters.params())
before = context.run("overview_kpis", ctx.filters.params(comparison=True))

columns = st.columns(3)
for i, (key, label, fmt) in enumerate(CARDS):
    value = now[key].iloc[0]
    previous = before[key].iloc[0]
    shown = "n/a" if pd.isna(value) else fmt.format(value)
    delta = None
    if not pd.isna(value) and not pd.isna(previous) and previous:
        delta = f"{(value - previous) / previous:+.1%}"
    columns[i % 3].metric(label, shown, delta, help="Change versus the comparison period")

export = pd.concat(
    [now.assign(period_kind="current"), before.assign(period_kind="comparison")],
    ignore_index=True,
)
context.download(export, "overview", ctx)
