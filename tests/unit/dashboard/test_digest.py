"""The digest's HTML: headlines, cards and charts (PNG, embedded) from the named queries'
answers, and where they come from; nothing fetched from elsewhere."""

from __future__ import annotations

import base64
import re
from datetime import date, datetime

import pandas as pd

from dashboard.digest import FIGURES, render_html
from dashboard.filters import Filters

CHOSEN = Filters(
    date(2021, 1, 1), date(2022, 1, 1), date(2020, 1, 1), date(2021, 1, 1), "", "retail", "", ""
)
KPIS = ["interactions", "top4_channel_share", "smart_notification_share", "ivr_mean_s",
        "read_within_3_min_share", "channels_per_journey"]  # fmt: skip


def answers(name: str, params: dict[str, object]) -> pd.DataFrame:
    current = params.get("start") == pd.Timestamp("2021-01-01")
    if name == "overview_kpis":
        values = [131_802, 0.902, 0.592, 35.5, 0.904, 2.38] if current else [
            67_412, 0.872, 0.517, 103.8, 0.9, 2.4]  # fmt: skip
        return pd.DataFrame([values], columns=KPIS)
    if name == "headline_totals":
        calls = 1000 if current else 400
        seconds = 35.5 if current else 103.8
        return pd.DataFrame([{"ivr_calls": calls, "ivr_duration_ms": calls * seconds * 1000}])
    if name == "headline_mix":
        return pd.DataFrame(
            columns=["industry", "channel", "period_interactions", "comparison_interactions"]
        )
    if name == "channel_mix":
        return pd.DataFrame(
            [(2020, "email", 30, 0.3), (2020, "web", 70, 0.7), (2021, "email", 60, 0.5),
             (2021, "web", 60, 0.5)],
            columns=["year", "channel", "interactions", "share"],
        )  # fmt: skip
    if name == "ivr_duration_by_month":
        return pd.DataFrame(
            [(pd.Timestamp("2021-01-01"), 10, 40.0, 35, 80)],
            columns=["month", "calls", "mean_s", "p50_bin_s", "p90_bin_s"],
        )
    return pd.DataFrame(columns=["year", "channel", "sends", "read_within_3_min_share"])


def test_the_digest_holds_headlines_cards_charts_and_sources() -> None:
    document = render_html(answers, CHOSEN, datetime(2026, 12, 6, 19, 0))
    assert "<h1>Customer journeys: 2021-01-01 to 2021-12-31</h1>" in document
    assert "Filtered to industry Retail" in document
    assert "<li>IVR calls got 66% shorter (1:44 → 0:36)</li>" in document
    assert "131,802" in document and "-65.8%" in document  # a card and its change
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', document)
    assert len(images) == 2  # the mix and the IVR time; no read pair to chart
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "Nothing in this period for these filters." in document
    for figure in FIGURES:
        assert f"<code>{figure.query}</code>" in document
    # self-contained: nothing to fetch when the mail is opened
    assert not re.search(r'(src|href)="(http|//)', document)
