"""Overview cards: shares change in points, volumes and durations in percent, coloured by
whether up is good for the metric."""

from __future__ import annotations

import math

import pytest

from dashboard.cards import CARDS, Card, change

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
