"""Live: the last hour per minute, freshness per partition, dead letters, newest events.

The live part refreshes itself every ``REFRESH_S`` seconds (``st.fragment(run_every=...)``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard import charts, data
from streams.settings import load_settings

REFRESH_S = 10

st.title("Live")


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    topic = load_settings().topic_interactions
    try:
        by_channel = data.run(
            "interactions_by_channel",
            {"start": datetime(2000, 1, 1), "end": now + timedelta(days=1)},
        )
        per_minute = data.run(
            "live_interactions_per_minute",
            {"since": (now - timedelta(hours=1)).replace(second=0, microsecond=0), "tenant": ""},
        )
        freshness = data.run("pipeline_freshness", {"topic": topic})
        dead = data.run("dead_letters_by_reason", {"since": now - timedelta(days=1)})
        recent = data.run("recent_interactions", {"limit": 20})
    except data.DataUnavailable as exc:
        st.error(f"The data store is unreachable right now. {exc}")
        return

    total = int(by_channel["interactions"].sum()) if not by_channel.empty else 0
    st.metric("Interactions ingested", f"{total:,}")
    last_flush = freshness["last_flush_at"].max() if not freshness.empty else None
    st.caption(
        f"Data as of {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC; "
        + (
            f"last flush {last_flush:%Y-%m-%d %H:%M:%S} UTC"
            if last_flush is not None
            else "no flush from the worker yet"
        )
        + f"; refreshes every {REFRESH_S} s"
    )
    if by_channel.empty:
        st.info(
            "No interactions yet. Publish events to Kafka (see the README) and they appear here."
        )
        return
    if per_minute.empty:
        st.info(
            "Nothing happened in the last hour (the backfill is history; live traffic shows here)."
        )
    else:
        st.altair_chart(charts.minute_lines(per_minute), width="stretch")
    st.altair_chart(charts.channel_bars(by_channel), width="stretch")
    st.subheader("Newest events (receipts included)")
    st.dataframe(recent, hide_index=True)
    st.subheader("Freshness per partition")
    if freshness.empty:
        st.info("The worker has not flushed yet.")
    else:
        st.dataframe(freshness, hide_index=True)
    st.subheader("Dead letters in the last 24 hours, by reason")
    if dead.empty:
        st.success("No record broke the contract in the last 24 hours.")
    else:
        st.dataframe(dead, hide_index=True)


live()
