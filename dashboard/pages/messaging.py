"""Messaging: volume by year, read latency, share read within 3 minutes, read-signal coverage."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, context

ctx = context.require("Messaging")
reads = context.run("read_within_3_minutes", ctx.filters.both_params())
context.chart(
    reads,
    lambda f: charts.grouped_bars(f, "channel", "sends", "year", "Messages sent per year"),
    "messages_by_year",
    ctx,
)
st.subheader("Read within 3 minutes of the send")
timed = reads.dropna(subset=["read_within_3_min_share"]) if not reads.empty else reads
context.chart(
    timed,
    lambda f: charts.grouped_bars(
        f, "channel", "read_within_3_min_share", "year", "Share of read pairs read within 3 min"
    ),
    "read_within_3_minutes",
    ctx,
    empty="No read signal in this period: nothing to time.",
)

st.subheader("Read latency")
latency = context.run("read_latency_distribution", ctx.filters.params())
context.chart(latency, charts.latency_histogram, "read_latency_distribution", ctx)

st.subheader("Which signal these figures rest on")
st.caption(
    "Plain SMS has no read receipt: its read figures rest on proxies (a link click or a reply). "
    "Messaging apps report true read receipts. Coverage is the share of sends with any signal."
)
coverage = context.run("read_signal_coverage", ctx.filters.params())
context.chart(coverage, charts.coverage_bars, "read_signal_coverage", ctx)

st.subheader("Two-way messaging: sends the customer replied to, by purpose")
st.caption(
    "A send counts once however many replies it got; the reply rate is replied sends over "
    "sends of that purpose."
)
replies = context.run("replied_sends_by_purpose", ctx.filters.both_params())
context.chart(
    replies,
    lambda f: charts.grouped_bars(f, "purpose", "reply_rate", "year", "Reply rate per year"),
    "replied_sends_by_purpose",
    ctx,
    empty="No message was sent with a purpose in this period.",
)
