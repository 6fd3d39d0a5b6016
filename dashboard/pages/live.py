"""Live: what the pipeline has ingested, by channel, and the newest events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard import charts, data

st.title("Live")
now = datetime.now(UTC).replace(tzinfo=None)
try:
    by_channel = data.run(
        "interactions_by_channel", {"start": datetime(2000, 1, 1), "end": now + timedelta(days=1)}
    )
    recent = data.run("recent_interactions", {"limit": 20})
except data.DataUnavailable as exc:
    st.error(f"The data store is unreachable right now. {exc}")
    st.stop()

total = int(by_channel["interactions"].sum()) if not by_channel.empty else 0
st.metric("Interactions ingested", f"{total:,}")
st.caption(f"Data as of {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
if by_channel.empty:
    st.info("No interactions yet. Publish events to Kafka (see the README) and they appear here.")
else:
    st.altair_chart(charts.channel_bars(by_channel), width="stretch")
    st.subheader("Newest events (receipts included)")
    st.dataframe(recent, hide_index=True)
