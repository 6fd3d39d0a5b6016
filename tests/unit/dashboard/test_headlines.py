"""Written headlines: templates over counts, stated only when big, sure and on enough events."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd
import pytest

from dashboard.filters import parse_period
from dashboard.headlines import (
    Headline,
    Thresholds,
    clock,
    cohens_h,
    gather,
    headlines,
    two_proportion_z,
)

NOTHING = pd.DataFrame(
    columns=["industry", "channel", "period_interactions", "comparison_interactions"]
)


def totals(**counts: float) -> dict[str, Any]:
    return {
        "interactions": 0, "smart_notification_interactions": 0, "ivr_calls": 0,
        "ivr_duration_ms": 0, "read_pairs": 0, "read_within_3_min": 0, "journeys": 0,
        "journey_channels": 0,
    } | counts  # fmt: skip


def mix(*rows: tuple[str, str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=NOTHING.columns)


def texts(found: list[Headline]) -> list[str]:
    return [h.text for h in found]


def test_ivr_calls_getting_shorter_is_written_with_both_times() -> None:
    now = totals(ivr_calls=1000, ivr_duration_ms=1000 * 35_900)
    before = totals(ivr_calls=400, ivr_duration_ms=400 * 101_100)
    assert texts(headlines(now, before, NOTHING)) == ["IVR calls got 64% shorter (1:41 → 0:36)"]


def test_a_channel_gaining_share_within_an_industry() -> None:
    # retail: e-mail 460 of 1000 against 398 of 1000 (6.2 points, z = 2.8)... on 10 times the
    # events, z = 8.9: stated; telecom's mix did not move
    rows = mix(
        ("retail", "email", 4600, 3980), ("retail", "web", 5400, 6020),
        ("telecom", "email", 5000, 5000), ("telecom", "web", 5000, 5000),
    )  # fmt: skip
    found = texts(headlines(totals(), totals(), rows))
    assert "E-mail gained 6.2 points of the mix in retail (39.8% → 46.0%)" in found
    assert "Web lost 6.2 points of the mix in retail (60.2% → 54.0%)" in found
    assert not [t for t in found if "telecom" in t]
    # overall, e-mail went from 8980 to 9600 of 20000: 3.1 points
    assert "E-mail gained 3.1 points of the mix (44.9% → 48.0%)" in found


def test_a_shift_chance_can_explain_is_not_stated() -> None:
    rows = mix(("retail", "email", 460, 398), ("retail", "web", 540, 602))
    assert two_proportion_z(460, 1000, 398, 1000) == pytest.approx(2.80, abs=0.01)
    assert headlines(totals(), totals(), rows) == []  # 6.2 points, but |z| < 3
    assert texts(headlines(totals(), totals(), rows, Thresholds(z=2.5)))[0].startswith("E-mail")


def test_thresholds_of_size_and_volume() -> None:
    # 0.8 points on a million reads each side: sure (z = 19), but too small to write
    small = headlines(
        totals(read_pairs=1e6, read_within_3_min=904_000),
        totals(read_pairs=1e6, read_within_3_min=896_000),
        NOTHING,
    )
    assert small == []
    assert texts(
        headlines(
            totals(read_pairs=1e6, read_within_3_min=904_000),
            totals(read_pairs=1e6, read_within_3_min=896_000),
            NOTHING,
            Thresholds(min_points=0.5),
        )
    ) == ["Messages read within 3 minutes rose 0.8 points (89.6% → 90.4%)"]
    # IVR calls 65% shorter, but on 99 calls: below the minimum volume
    few = totals(ivr_calls=99, ivr_duration_ms=99 * 35_000)
    assert headlines(few, totals(ivr_calls=500, ivr_duration_ms=500 * 100_000), NOTHING) == []
    # a 4% longer call is below the 5% a mean must move
    assert (
        headlines(
            totals(ivr_calls=500, ivr_duration_ms=500 * 104_000),
            totals(ivr_calls=500, ivr_duration_ms=500 * 100_000),
            NOTHING,
        )
        == []
    )


def test_volume_needs_poisson_certainty() -> None:
    # 120 against 100: 20% more, but 20 < 3 * sqrt(220) = 44.5
    assert headlines(totals(interactions=120), totals(interactions=100), NOTHING) == []
    found = headlines(totals(interactions=131_802), totals(interactions=67_412), NOTHING)
    assert texts(found) == ["Interactions grew 96% (67,412 → 131,802)"]
    assert found[0].effect == pytest.approx(math.log(131_802 / 67_412))


def test_ranked_by_effect_then_kind_then_text() -> None:
    now = totals(interactions=20_000, ivr_calls=1000, ivr_duration_ms=1000 * 50_000)
    before = totals(interactions=10_000, ivr_calls=1000, ivr_duration_ms=1000 * 100_000)
    # volume doubled and IVR time halved: the same effect (log 2); volume comes first
    assert texts(headlines(now, before, NOTHING)) == [
        "Interactions grew 100% (10,000 → 20,000)",
        "IVR calls got 50% shorter (1:40 → 0:50)",
    ]
    assert texts(headlines(now, before, NOTHING, Thresholds(limit=1))) == [
        "Interactions grew 100% (10,000 → 20,000)"
    ]


def test_no_data_gives_no_headline() -> None:
    assert headlines({}, {}, NOTHING) == []
    assert headlines(totals(), totals(), NOTHING) == []
    nan = totals(ivr_calls=float("nan"), ivr_duration_ms=float("nan"))
    assert headlines(nan, nan, NOTHING) == []


def test_one_chosen_industry_is_not_written_twice() -> None:
    rows = mix(("retail", "email", 4600, 3980), ("retail", "web", 5400, 6020))
    found = texts(headlines(totals(), totals(), rows))
    assert len([t for t in found if t.startswith("E-mail")]) == 1
    assert found[0].endswith("in retail (39.8% → 46.0%)")


def test_gather_asks_the_named_queries_for_both_periods() -> None:
    asked: list[tuple[str, dict[str, object]]] = []

    def run(name: str, params: dict[str, object]) -> pd.DataFrame:
        asked.append((name, params))
        if name == "headline_mix":
            return NOTHING
        calls = 1000 if params["start"] == "2021" else 400
        seconds = 35.9 if params["start"] == "2021" else 101.1
        return pd.DataFrame([totals(ivr_calls=calls, ivr_duration_ms=calls * seconds * 1000)])

    period = {"start": "2021", "end": "2022", "tenant": "", "channel": "sms"}
    before = period | {"start": "2020", "end": "2021"}
    assert texts(gather(run, period, before)) == ["IVR calls got 64% shorter (1:41 → 0:36)"]
    assert [name for name, _ in asked] == ["headline_totals", "headline_totals", "headline_mix"]
    assert asked[2][1] == {
        "start": "2021", "end": "2022", "tenant": "", "channel": "sms", "compare_start": "2020",
        "compare_end": "2021",
    }  # fmt: skip


def test_helpers() -> None:
    assert clock(103.8) == "1:44"
    assert clock(35.5) == "0:36"
    assert clock(3600) == "60:00"
    assert cohens_h(0.5, 0.5) == 0
    assert two_proportion_z(1, 0, 1, 1) == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021", (date(2021, 1, 1), date(2022, 1, 1))),
        ("2021-02", (date(2021, 2, 1), date(2021, 3, 1))),
        ("2021-12", (date(2021, 12, 1), date(2022, 1, 1))),
        ("2021-03-01..2021-03-31", (date(2021, 3, 1), date(2021, 4, 1))),
        ("last-week", (date(2026, 11, 23), date(2026, 11, 30))),  # today: Thursday 3 Dec
        ("last-month", (date(2026, 11, 1), date(2026, 12, 1))),
    ],
)
def test_periods_as_people_name_them(text: str, expected: tuple[date, date]) -> None:
    assert parse_period(text, date(2026, 12, 3)) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("yesterday", "expected YYYY, YYYY-MM"),
        ("2021-13", "month must be in 1..12"),
        ("2021-03-31..2021-03-01", "ends before it starts"),
        ("2021-02-30..2021-03-01", "day is out of range"),
    ],
)
def test_a_bad_period_says_what_is_expected(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_period(text, date(2026, 12, 3))
