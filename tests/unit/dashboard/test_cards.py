"""Overview cards: shares change in points, volumes and durations in percent, coloured by
whether up is good for the metric."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.cards import CARDS, IVR_ESCAPE, TWO_WAY, Card, change, period_value

BY_KEY = {c.key: c for c in CARDS}


def test_a_share_changes_in_percentage_points() -> None:
    assert change(BY_KEY["read_within_3_min_share"], 0.903, 0.841) == "+6.2 pts"
    assert change(BY_KEY["smart_notification_share"], 0.30, 0.35) == "-5.0 pts"


def test_a_volume_or_a_duration_changes_in_percent() -> None:
    assert change(BY_KEY["interactions"], 9, 1) == "+800.0%"
    assert change(BY_KEY["ivr_mean_s"], 35.9, 101.1) == "-64.5%"


def test_a_shorter_ivr_call_is_good_news_and_a_neutral_metric_has_no_colour() -> None:
    assert BY_KEY["ivr_mean_s"].good == "inverse"  # down shows green
    assert BY_KEY["interactions"].good == "normal"
    assert BY_KEY["top4_channel_share"].good == "off"


@pytest.mark.parametrize(
    ("value", "previous"), [(None, 1.0), (1.0, None), (math.nan, 1.0), (1.0, math.nan)]
)
def test_no_change_without_both_values(value: float | None, previous: float | None) -> None:
    assert change(BY_KEY["interactions"], value, previous) is None
    assert change(BY_KEY["read_within_3_min_share"], value, previous) is None


def test_a_relative_change_from_zero_is_not_shown_but_a_share_from_zero_is() -> None:
    assert change(BY_KEY["interactions"], 5, 0) is None
    assert change(Card("s", "S", "{}", "share", "normal"), 0.25, 0.0) == "+25.0 pts"


def test_a_card_over_a_year_per_row_sums_the_period_from_its_counts() -> None:
    years = pd.DataFrame(
        {"year": [2020, 2021], "ivr_calls": [100, 300], "agent_requested": [60, 60],
         "trapped": [10, 2]}
    )  # fmt: skip
    asked, trapped, of_requests = IVR_ESCAPE
    # 120 of 400 calls, not the mean of 60% and 20%
    assert period_value(asked, years) == pytest.approx(0.30)
    assert period_value(trapped, years) == pytest.approx(12 / 400)
    assert period_value(of_requests, years) == pytest.approx(12 / 120)
    assert period_value(asked, years.iloc[0:0]) is None
    assert period_value(asked, years.assign(ivr_calls=0)) is None
    # a mean weighted by what it is a mean of; a year with no reply has no mean to weigh
    replies = pd.DataFrame({"mean_reply_s": [10.0, 40.0, None], "replied": [3, 1, 0]})
    assert period_value(TWO_WAY[2], replies) == pytest.approx(70 / 4)
