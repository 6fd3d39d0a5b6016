"""A card's change versus the comparison period, written the way its metric is read (pure).

A share changes by percentage points, a volume or a duration by a percentage; whether the
change is good news depends on the metric (a shorter IVR call is), and the card's colour says
which (``delta_color`` as ``st.metric`` takes it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

Kind = Literal["share", "volume", "duration", "ratio"]
# Streamlit's colours: "normal" (up green), "inverse" (down green), "off" (grey: neither).
Good = Literal["normal", "inverse", "off"]


@dataclass(frozen=True)
class Card:
    """One card: the query column it shows, its title, format, kind and good side.

    A card over a query that answers one row per year (or per year and channel) sums the
    period's rows: ``key / denominator`` when a denominator column is named (a share from its
    counts), else the mean of ``key`` weighted by ``weight``; with neither, the first row's
    ``key`` (a query that answers one row for the period).
    """

    key: str
    title: str
    fmt: str
    kind: Kind
    good: Good
    denominator: str | None = None
    weight: str | None = None
    summed: bool = False  # a count over the period's rows (one row a year, say)


CARDS = (
    Card("interactions", "Interactions", "{:,.0f}", "volume", "normal"),
    # More of the mix on four channels is neither good nor bad: it is how the mix stands.
    Card("top4_channel_share", "Share of the top four channels", "{:.1%}", "share", "off"),
    Card("smart_notification_share", "Smart-notification share", "{:.1%}", "share", "normal"),
    # A shorter IVR call is the good news (callers served or sent on sooner).
    Card("ivr_mean_s", "IVR mean call duration (s)", "{:.1f}", "duration", "inverse"),
    Card("read_within_3_min_share", "Read within 3 minutes", "{:.1%}", "share", "normal"),
    Card("channels_per_journey", "Channels per journey", "{:.2f}", "ratio", "off"),
)


def period_value(card: Card, frame: pd.DataFrame) -> float | None:
    """The card's value over every row of ``frame`` (None: no row, or nothing to divide by)."""
    if frame.empty:
        return None
    if card.denominator is not None:
        below = float(frame[card.denominator].sum())
        return float(frame[card.key].sum()) / below if below else None
    if card.summed:
        return float(frame[card.key].sum())
    if card.weight is not None:
        rows = frame.dropna(subset=[card.key])
        below = float(rows[card.weight].sum())
        return float((rows[card.key] * rows[card.weight]).sum()) / below if below else None
    value = frame[card.key].iloc[0]
    return None if pd.isna(value) else float(value)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def change(card: Card, value: float | None, previous: float | None) -> str | None:
    """The change shown under the card: ``+6.2 pts`` for a share, ``-64.5%`` otherwise; None
    when either period has no value (or, for a relative change, the comparison is zero)."""
    if _missing(value) or _missing(previous):
        return None
    assert value is not None and previous is not None
    if card.kind == "share":
        return f"{(value - previous) * 100:+.1f} pts"
    if not previous:
        return None
    return f"{(value - previous) / previous:+.1%}"


# The Voice page's IVR cards over ``ivr_duration_by_year`` (a row a calendar year).
IVR_TIME = (
    # A shorter IVR call is the good news (callers served or sent on sooner).
    Card("mean_s", "IVR mean call duration", "{:.1f} s", "duration", "inverse", weight="calls"),
    Card("calls", "IVR calls", "{:,.0f}", "volume", "off", summed=True),
)

# The cards of contract 1.1's metrics, by page section (``context.comparison_cards``).
IVR_ESCAPE = (
    # Asking for a person is neither good nor bad in itself; being left in the menus is bad.
    Card("agent_requested", "Asked for a person", "{:.1%}", "share", "off", "ivr_calls"),
    Card("trapped", "Trapped callers", "{:.1%}", "share", "inverse",
         "ivr_calls"),
    Card("trapped", "Trapped, of those asking", "{:.1%}", "share", "inverse",
         "agent_requested"),
)  # fmt: skip
BOT_CONTAINMENT = (
    Card("contained", "Resolved by the bot", "{:.1%}", "share", "normal",
         "chatbot_sessions"),
    Card("handoff_requested", "Asked for a person", "{:.1%}", "share", "off",
         "chatbot_sessions"),
    Card("handoff_denied", "Hand-offs refused", "{:.1%}", "share", "inverse",
         "handoff_requested"),
)  # fmt: skip
FIRST_RESPONSE = (
    Card("within_1h_share", "Answered within an hour", "{:.1%}", "share", "normal",
         weight="opened"),
    Card("within_24h_share", "Answered within a day", "{:.1%}", "share", "normal",
         weight="opened"),
    Card("unanswered_share", "Never answered", "{:.1%}", "share", "inverse", weight="opened"),
)  # fmt: skip
TWO_WAY = (
    Card("reply_enabled_sends", "Answerable sends", "{:.1%}", "share", "normal",
         "sends"),
    Card("replied", "Reply rate", "{:.1%}", "share", "normal",
         "reply_enabled_sends"),
    # A faster answer is the good news.
    Card("mean_reply_s", "Mean time to reply (s)", "{:,.0f}", "duration", "inverse",
         weight="replied"),
)  # fmt: skip
DELIVERY = (
    Card("delivered", "Delivery rate", "{:.1%}", "share", "normal", "sent"),
    Card("failed", "Failed", "{:.2%}", "share", "inverse", "sent"),
    Card("undelivered", "Undelivered", "{:.2%}", "share", "inverse",
         "sent"),
)  # fmt: skip
# The customers stage (docs/customer-metrics.md): fewer calls after a web visit, and fewer
# repeat contacts, are the good news.
LEAKAGE = (
    Card("leaked_visits", "Web visits followed by a call or chat", "{:.1%}", "share",
         "inverse", "web_visits"),
    Card("after_web", "Calls and chats after a web visit", "{:.1%}", "share", "inverse",
         "calls_and_chats"),
    Card("near_rotation", "Calls and chats near a key rotation", "{:.2%}", "share", "off",
         "calls_and_chats"),
)  # fmt: skip
REPEATS = (
    Card("repeats", "Repeat contacts", "{:.1%}", "share", "inverse", "contacts"),
    Card("same_reason_repeats", "Repeats about the same reason", "{:.1%}", "share",
         "inverse", "reasoned_repeats"),
    Card("followed", "Contacts followed by another", "{:.1%}", "share", "inverse",
         "contacts"),
)  # fmt: skip
# Coverage of each section's 1.1 fields (``contract_1_1_coverage``): a yes/no field left out
# reads as no, so a figure is only as complete as the share of events that carry the fields.
COVERAGE_IVR = Card("ivr_coverage", "IVR calls with 1.1 fields", "{:.1%}", "share", "normal",
                    weight="ivr_calls")  # fmt: skip
COVERAGE_BOT = Card("chatbot_coverage", "Sessions with 1.1 fields", "{:.1%}", "share", "normal",
                    weight="chatbot_sessions")  # fmt: skip
COVERAGE_CONVERSATIONS = Card("conversation_coverage", "Messages in a thread",
                              "{:.1%}", "share", "normal", weight="customer_messages")  # fmt: skip
COVERAGE_ERRORS = Card("error_code_coverage", "Failures with an error code", "{:.1%}", "share",
                       "normal", weight="failures")  # fmt: skip
