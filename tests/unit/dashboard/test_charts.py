"""Chart builders are pure: checked through their Vega-Lite specs."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard import charts


def test_channel_bars_sorts_channels_by_interactions() -> None:
    spec = charts.channel_bars(pd.DataFrame({"channel": ["web"], "interactions": [3]})).to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["y"]["sort"] == "-x"


def test_minute_lines_draw_one_line_per_channel_over_time() -> None:
    frame = pd.DataFrame(
        {"minute": [datetime(2026, 1, 1, 10, 0)], "channel": ["sms"], "interactions": [2]}
    )
    spec = charts.minute_lines(frame).to_dict()
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["type"] == "temporal"
    assert spec["encoding"]["color"]["field"] == "channel"


def test_altair_spec_is_what_streamlit_sends_with_the_data_inline() -> None:
    """dashboard.context.altair_spec rests on a private function of the pinned streamlit: when
    an upgrade moves it, this fails here, not on a reader's page."""
    from dashboard.context import altair_spec

    frame = pd.DataFrame({"channel": ["web", "sms"], "interactions": [3, 5]})
    spec = altair_spec(charts.channel_bars(frame))
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["y"]["sort"] == "-x"
    datasets = spec["datasets"]  # the rows travel with the spec, as st.altair_chart sends them
    assert len(datasets) == 1
    name = spec["data"]["name"]
    assert name in datasets


def test_summed_shares_divide_the_years_summed_counts_never_average_the_cells() -> None:
    import pandas as pd

    from dashboard.charts import summed_shares

    frame = pd.DataFrame(
        {
            "year": [2020, 2020, 2021],
            "leaked_visits": [1, 9, 0],
            "web_visits": [10, 10, 0],
        }
    )
    out = summed_shares(frame, {"leakage_rate": ("leaked_visits", "web_visits")})
    assert out["year"].tolist() == [2020, 2021]
    assert out["leakage_rate"].iloc[0] == 0.5  # 10 of 20, not the mean of 0.1 and 0.9
    assert pd.isna(out["leakage_rate"].iloc[1])  # nothing to divide by
