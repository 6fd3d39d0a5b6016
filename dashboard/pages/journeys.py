"""Journeys: distinct channels per journey by industry, and chatbot hand-off."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, context

ctx = context.require("Journeys")
both = ctx.filters.both_params()
journeys = context.run(
    "channels_per_journey", both, why={"channel": "a journey's channels are what is counted"}
)
context.chart(
    journeys,
    lambda f: charts.grouped_bars(
        f, "industry", "channels_per_journey", "year", "Distinct channels per journey"
    ),
    "channels_per_journey",
    ctx,
)
st.subheader("Chatbot sessions handed off to a human")
chatbot = context.run("chatbot_handoff", both)
context.chart(
    chatbot,
    lambda f: charts.grouped_bars(f, "year", "hand_off_rate", "year", "Hand-off rate"),
    "chatbot_handoff",
    ctx,
    empty="No chatbot session in this period.",
)
