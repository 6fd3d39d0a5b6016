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
