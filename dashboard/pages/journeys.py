"""Journeys: distinct channels per journey by industry, chatbot hand-off and containment, how
fast brands answer customers on social media and chat, and, across a customer's journeys,
digital-to-call leakage and repeat contact (the customers stage)."""

from __future__ import annotations

import streamlit as st

from dashboard import cards, charts, context, settings

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

st.subheader("Across journeys: calls after a web visit, and repeat contact")
config = settings.settings()
window_h = round(config.leakage_window_ms / 3_600_000)
repeat_h = round(config.repeat_window_ms / 3_600_000)
st.caption(
    f"Per customer, across journeys (docs/customer-metrics.md): a web visit leaked when the "
    f"same customer called or chatted within {config.leakage_window} of it; a contact is a "
    f"repeat when the customer's earlier one is at most {config.repeat_window} before it. A "
    "rotated pseudonymisation key splits a customer in two: the calls and chats within a window "
    "of a rotation may have lost their visit, so that card is the figure's error bar."
)
CUSTOMERS = {"channel": "the figures pair a customer's contacts across channels"}
# Each chart's shares from the year's summed counts: (counted, out of), and their labels.
LEAKAGE_SHARES = {
    "leakage_rate": ("leaked_visits", "web_visits"),
    "after_web_share": ("after_web", "calls_and_chats"),
}
LEAKAGE_LABELS = {
    "leakage_rate": "web visits followed by a call or chat",
    "after_web_share": "calls and chats after a web visit",
}
REPEAT_SHARES = {
    "repeat_rate": ("repeats", "contacts"),
    "same_reason_share": ("same_reason_repeats", "reasoned_repeats"),
}
REPEAT_LABELS = {"repeat_rate": "repeat contacts", "same_reason_share": "repeats, same reason"}
leakage = context.comparison_cards(
    "leakage_rate", cards.LEAKAGE, ctx, why=CUSTOMERS, extra={"leakage_window_h": window_h}
)
context.chart(
    leakage,
    lambda f: charts.share_measures(
        charts.summed_shares(f, LEAKAGE_SHARES), LEAKAGE_LABELS, "Digital-to-call leakage"
    ),
    "leakage_rate",
    ctx,
    empty="No web visit, call or chat of a customer in this period.",
)
repeats = context.comparison_cards(
    "repeat_contact_rate", cards.REPEATS, ctx, why=CUSTOMERS, extra={"repeat_window_h": repeat_h}
)
context.chart(
    repeats,
    lambda f: charts.share_measures(
        charts.summed_shares(f, REPEAT_SHARES), REPEAT_LABELS, "Repeat contact per year"
    ),
    "repeat_contact_rate",
    ctx,
    empty="No contact of a customer in this period.",
)
