"""A card's change versus the comparison period, written the way its metric is read (pure).

A share changes by percentage points, a volume or a duration by a percentage; whether the
change is good news depends on the metric (a shorter IVR call is), and the card's colour says
which (``delta_color`` as ``st.metric`` takes it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Kind = Literal["share", "volume", "duration", "ratio"]
# Streamlit's colours: "normal" (up green), "inverse" (down green), "off" (grey: neither).
Good = Literal["normal", "inverse", "off"]


@dataclass(frozen=True)
class Card:
    """One Overview card: the query column it shows, its title, format, kind and good side."""

    key: str
    title: str
    fmt: str
    kind: Kind
    good: Good


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
