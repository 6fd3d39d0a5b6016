"""Journeys: distinct channels per journey by industry, chatbot hand-off and containment, and
how fast brands answer customers on social media and chat."""

from __future__ import annotations

import streamlit as st

from dashboard import cards, charts, context

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

st.subheader("Bot containment")
st.caption(
    "Contained: the bot resolved what the customer came for without a hand-off (contract 1.1 "
    "resolved). Refused: the customer asked for a person and was not handed off. Sessions "
    "published without these fields count as neither: the last card says how many carry them."
)
containment = context.comparison_cards(
    "bot_containment", cards.BOT_CONTAINMENT, ctx, coverage=cards.COVERAGE_BOT
)
context.chart(
    containment,
    lambda f: charts.share_measures(
        f,
        {"containment_rate": "resolved by the bot", "denied_rate": "hand-offs refused"},
        "Bot containment per year",
    ),
    "bot_containment",
    ctx,
    empty="No chatbot session in this period.",
)

st.subheader("Social media: how fast the brand answers")
st.caption(
    "A conversation (contract 1.1's conversation id) is opened by the customer's earliest "
    "message; its first response is the brand's earliest reply after it. Cards: social media; "
    "the chart shows chat too."
)
responses = context.comparison_cards(
    "social_first_response",
    cards.FIRST_RESPONSE,
    ctx,
    rows=lambda f: f[f["channel"] == "social"] if not f.empty else f,
    coverage=cards.COVERAGE_CONVERSATIONS,
)
context.chart(
    responses,
    lambda f: charts.grouped_bars(
        f, "channel", "within_24h_share", "year", "Conversations answered within a day"
    ),
    "social_first_response",
    ctx,
    empty="No customer opened a conversation on social media or chat in this period.",
)
