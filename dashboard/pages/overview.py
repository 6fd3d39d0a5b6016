"""Overview: the six cards executives read first, each with its change versus the comparison."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import streamlit as st

from dashboard import data, filters

CARDS = (
    ("interactions", "Interactions", "{:,.0f}"),
    ("top4_channel_share", "Share of the top four channels", "{:.1%}"),
    ("smart_notification_share", "Smart-notification share", "{:.1%}"),
    ("ivr_mean_s", "IVR mean call duration (s)", "{:.1f}"),
    ("read_within_3_min_share", "Read within 3 minutes", "{:.1%}"),
    ("channels_per_journey", "Channels per journey", "{:.2f}"),
)

st.title("Overview")
try:
    span = data.run("data_span", {})
except data.DataUnavailable as exc:
    st.error(f"The data store is unreachable right now. {exc}")
    st.stop()
if span.empty or not span["interactions"].iloc[0]:
    st.info("No interactions yet. `journey up` backfills two calibrated years to explore.")
    st.stop()
last: datetime = pd.Timestamp(span["last_hour"].iloc[0]).to_pydatetime()
chosen = filters.sidebar(date(last.year, 1, 1), last.date() + timedelta(days=1))
try:
    now = data.run("overview_kpis", chosen.params())
    before = data.run("overview_kpis", chosen.params(comparison=True))
except data.DataUnavailable as exc:
    st.error(f"The data store is unreachable right now. {exc}")
    st.stop()

st.caption(
    f"{chosen.context()['period']} compared with {chosen.context()['comparison_period']}; "
    f"data up to {last:%Y-%m-%d %H:00} UTC"
)
columns = st.columns(3)
for i, (key, label, fmt) in enumerate(CARDS):
    value = now[key].iloc[0]
    previous = before[key].iloc[0]
    shown = "n/a" if pd.isna(value) else fmt.format(value)
    delta = None
    if not pd.isna(value) and not pd.isna(previous) and previous:
        delta = f"{(value - previous) / previous:+.1%}"
    columns[i % 3].metric(label, shown, delta)

export = pd.concat(
    [now.assign(period="current"), before.assign(period="comparison")], ignore_index=True
).assign(**chosen.context())
st.download_button(
    "Download these figures (CSV, with the filters)",
    export.to_csv(index=False),
    file_name="overview.csv",
    mime="text/csv",
)
