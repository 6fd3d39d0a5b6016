"""Pure Altair chart builders: frames in, ``alt.Chart`` out, no Streamlit inside."""

from __future__ import annotations

import altair as alt
import pandas as pd


def channel_bars(frame: pd.DataFrame) -> alt.Chart:
    """Interactions per channel, largest first."""
    return (
        alt.Chart(frame, title="Interactions by channel")
        .mark_bar()
        .encode(
            x=alt.X("interactions:Q", title="Interactions"),
            y=alt.Y("channel:N", sort="-x", title="Channel"),
            tooltip=["channel:N", alt.Tooltip("interactions:Q", format=",")],
        )
    )


def minute_lines(frame: pd.DataFrame) -> alt.Chart:
    """Interactions per minute, one line per channel."""
    return (
        alt.Chart(frame, title="Last hour, per minute")
        .mark_line(point=True)
        .encode(
            x=alt.X("minute:T", title="Minute (UTC)"),
            y=alt.Y("interactions:Q", title="Interactions"),
            color=alt.Color("channel:N", title="Channel"),
            tooltip=["minute:T", "channel:N", alt.Tooltip("interactions:Q", format=",")],
        )
    )
