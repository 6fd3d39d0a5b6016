"""Messaging: volume by year, delivery, read latency, share read within 3 minutes, read speed by
the signal it rests on with its coverage, and two-way messaging."""

from __future__ import annotations

import streamlit as st

from dashboard import cards, charts, context

ctx = context.require("Messaging")
reads = context.run("read_within_3_minutes", ctx.filters.both_params())
context.chart(
    reads,
    lambda f: charts.grouped_bars(f, "channel", "sends", "year", "Messages sent per year"),
    "messages_by_year",
    ctx,
)
st.subheader("Delivery")
st.caption(
    "Delivery rate: delivery receipts over sends (a provider that sends no delivery receipt "
    "lowers it). Failed and undelivered are contract 1.1 statuses, with the provider's error code."
)
context.comparison_cards("delivery_rate", cards.DELIVERY, ctx, coverage=cards.COVERAGE_ERRORS)
failures = context.run("delivery_failures", ctx.filters.both_params())
context.chart(
    failures,
    lambda f: charts.grouped_bars(
        f.assign(code=f["status"] + " " + f["error_code"].replace("", "(no code)")),
        "code",
        "messages",
        "year",
        "Failed and undelivered messages by error code",
    ),
    "delivery_failures",
    ctx,
    empty="No failed or undelivered message in this period.",
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
by_signal = context.run("read_speed_by_signal", ctx.filters.both_params())
context.chart(
    by_signal,
    lambda f: charts.grouped_bars(
        f, "read_signal", "read_within_3_min_share", "year", "Read within 3 min, by signal"
    ),
    "read_speed_by_signal",
    ctx,
    empty="No read signal in this period.",
)

st.subheader("Two-way messaging")
st.caption(
    "Answerable: sends published as reply-enabled (contract 1.1; left out reads as not "
    "answerable). A reply is a reply-proxy receipt or the customer's own message, the earliest "
    "counted once per send."
)
context.comparison_cards("two_way_messaging", cards.TWO_WAY, ctx)

st.subheader("Sends the customer replied to, by purpose")
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
