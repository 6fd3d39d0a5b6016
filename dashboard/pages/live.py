"""Live: the last hour per minute, freshness per partition, dead letters, newest events.

The live part refreshes itself every ``REFRESH_S`` seconds (``st.fragment(run_every=...)``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from dashboard import charts, context, data
from dashboard import settings as config

REFRESH_S = 10

st.title("Live")
state = st.session_state.get(context.STATE_KEY)
# The sidebar's filters (the period aside: Live is always the last hour).
SCOPE = (
    {k: getattr(state.filters, k) for k in context.FILTER_LABELS}
    if isinstance(state, context.PageContext)
    else dict.fromkeys(context.FILTER_LABELS, "")
)
for line in context.unapplied_filters(
    "live_interactions_per_minute", SCOPE, {"channel": "the chart compares the channels"}
):
    st.caption(line)


@st.fragment(run_every=REFRESH_S)
def live() -> None:
    """The last hour, refreshed every ``REFRESH_S`` seconds; every read is bounded in time."""
    now = datetime.now(UTC).replace(tzinfo=None)
    hour_ago = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    topic = config.settings().topic_interactions
    try:
        minutes = {k: v for k, v in SCOPE.items() if k != "channel"}
        per_minute = data.run("live_interactions_per_minute", {"since": hour_ago, **minutes})
        freshness = data.run("pipeline_freshness", {"topic": topic})
        dead = data.run("dead_letters_by_reason", {"since": now - timedelta(days=1)})
        recent = data.run("recent_interactions", {"since": hour_ago, "limit": 20, **SCOPE})
    except data.DataUnavailable as exc:
        st.error(f"The data store is unreachable right now. {exc}")
        return

    total = int(per_minute["interactions"].sum()) if not per_minute.empty else 0
    st.metric("Interactions in the last hour (event time)", f"{total:,}")
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
    if per_minute.empty:
        st.info(
            "Nothing happened in the last hour. Backfilled history is on the other pages; "
            "live traffic shows here within seconds of being published."
        )
    else:
        st.vega_lite_chart(
            spec=context.altair_spec(charts.minute_lines(per_minute)), width="stretch"
        )
        st.download_button(
            "Download the last hour per minute (CSV, with its window)",
            per_minute.assign(
                filter_window=f"{hour_ago:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC",
                **{f"filter_{k}": v or "all" for k, v in SCOPE.items() if k != "channel"},
            ).to_csv(index=False),
            file_name="live_per_minute.csv",
            mime="text/csv",
            key="download_live_per_minute",
        )
        by_channel = per_minute.groupby("channel")["interactions"].sum().reset_index()
        st.vega_lite_chart(
            spec=context.altair_spec(charts.channel_bars(by_channel)), width="stretch"
        )
        st.subheader("Newest events (receipts included)")
        if recent.empty:
            st.info("The raw events of the last hour are not in the store (yet).")
        else:
            st.table(recent.set_index("event_id"))
    st.subheader("Freshness per partition")
    st.caption("The whole pipeline's, whatever the filters: a partition holds every tenant.")
    if freshness.empty:
        st.info("The worker has not flushed yet.")
    else:
        st.table(freshness.set_index("kafka_partition"))
    st.subheader("Dead letters in the last 24 hours, by reason")
    st.caption("Not filtered: a record that broke the contract has no tenant to trust.")
    if dead.empty:
        st.success("No record broke the contract in the last 24 hours.")
    else:
        st.table(dead.set_index("code"))


live()
