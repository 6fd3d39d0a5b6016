"""The dashboard's shared filters: default period, comparison periods, CSV filter context."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from dashboard.context import (
    completeness_line,
    csv_with_context,
    definition,
    loss_warnings,
    stale_warning,
)
from dashboard.filters import Filters, comparison_period, default_period


def test_default_period_is_the_latest_full_year_with_data() -> None:
    today = date(2026, 11, 25)
    assert default_period([2020, 2021, 2026], today) == (date(2021, 1, 1), date(2022, 1, 1))
    # only this year's data: the year to date, today included
    assert default_period([2026], today) == (date(2026, 1, 1), date(2026, 11, 26))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("aligned_year", (date(2020, 3, 2), date(2020, 4, 2))),
        ("same_dates", (date(2020, 3, 1), date(2020, 4, 1))),
        ("previous_period", (date(2021, 1, 29), date(2021, 3, 1))),
    ],
)
def test_comparison_periods(mode: str, expected: tuple[date, date]) -> None:
    assert comparison_period(date(2021, 3, 1), date(2021, 4, 1), mode) == expected


def test_aligned_comparison_keeps_the_weekday_and_leap_days_have_a_twin() -> None:
    start, _ = comparison_period(date(2021, 3, 1), date(2021, 4, 1), "aligned_year")
    assert start.weekday() == date(2021, 3, 1).weekday()
    assert comparison_period(date(2024, 2, 29), date(2024, 3, 1), "same_dates")[0] == date(
        2023, 2, 28
    )
    with pytest.raises(ValueError, match="unknown comparison 'fortnight'"):
        comparison_period(date(2021, 3, 1), date(2021, 4, 1), "fortnight")


def test_both_params_cover_the_comparison_and_the_period() -> None:
    chosen = Filters(
        date(2021, 1, 1), date(2022, 1, 1), date(2020, 1, 3), date(2021, 1, 2), "", "", "", ""
    )
    both = chosen.both_params()
    assert (both["start"], both["end"]) == (datetime(2020, 1, 3), datetime(2022, 1, 1))


def test_csv_rows_carry_the_filter_context() -> None:
    chosen = Filters(
        date(2021, 1, 1), date(2022, 1, 1), date(2020, 1, 3), date(2021, 1, 2),
        "acme", "retail", "", "sms",
    )  # fmt: skip
    text = csv_with_context(
        pd.DataFrame({"channel": ["sms"], "sends": [3]}),
        chosen,
        datetime(2026, 12, 6, 19, 30, 5),
        "SMS sends per year",
    )
    header, row = text.strip().splitlines()
    assert header.split(",") == [
        "channel",
        "sends",
        "filter_period",
        "filter_comparison_period",
        "filter_tenant",
        "filter_industry",
        "filter_use_case",
        "filter_channel",
        "as_of_utc",
        "definition",
    ]
    assert row.split(",") == [
        "sms",
        "3",
        "2021-01-01 to 2021-12-31",
        "2020-01-03 to 2021-01-01",
        "acme",
        "retail",
        "all",
        "sms",
        "2026-12-06 19:30:05",
        "SMS sends per year",
    ]


def test_a_download_says_what_its_figure_is() -> None:
    from dashboard import data
    from streams.clickhouse import queries

    frame = pd.DataFrame({"year": [2021]})
    frame.attrs[data.SOURCE] = "ivr_escape|[]|1"
    assert definition(frame, "escape") == queries.load("ivr_escape").description
    assert definition(pd.DataFrame(), "channel_mix") == queries.load("channel_mix").description
    assert definition(pd.DataFrame(), "overview") == ""  # no one query: nothing made up


def test_a_loss_warns_on_the_periods_its_records_could_belong_to() -> None:
    losses = pd.DataFrame(
        [
            {
                "kafka_topic": "interactions",
                "kafka_partition": 4,
                "first_offset": 100,
                "last_offset": 149,
                "lost": 50,
                "after_watermark": datetime(2021, 3, 10, 12),
                "detected_at": datetime(2021, 3, 20, 8),
                "acknowledged": False,
            }
        ]
    )

    def chosen(start: date, end: date, compare: tuple[date, date]) -> Filters:
        return Filters(start, end, compare[0], compare[1], "", "", "", "")

    year_2020 = (date(2020, 1, 1), date(2021, 1, 1))
    in_2021 = chosen(date(2021, 1, 1), date(2022, 1, 1), year_2020)
    [warning] = loss_warnings(losses, in_2021)
    assert "50 records of interactions partition 4 (offsets 100-149)" in warning
    assert "from 2021-03-09 on" in warning  # the watermark less a day of lateness
    assert loss_warnings(losses, chosen(*year_2020, (date(2019, 1, 1), date(2020, 1, 1)))) == []
    # The comparison period is shown too: a loss there warns as well.
    assert loss_warnings(losses, chosen(date(2022, 1, 1), date(2023, 1, 1), in_2021_span()))
    assert loss_warnings(losses.iloc[0:0], in_2021) == []
    assert loss_warnings(None, in_2021) == []


def in_2021_span() -> tuple[date, date]:
    return date(2021, 1, 1), date(2022, 1, 1)


def test_an_aligned_full_year_does_not_overlap_the_year_it_is_compared_with() -> None:
    start, end = date(2021, 1, 1), date(2022, 1, 1)
    compare_start, compare_end = comparison_period(start, end, "aligned_year")
    assert compare_end <= start  # it ended at 2021-01-02 (one day inside 2021) before
    assert (compare_start, compare_end) == (date(2019, 12, 27), date(2020, 12, 26))
    assert compare_end - compare_start == end - start
    assert compare_start.weekday() == start.weekday()
    # A leap year: 366 days, still 53 weeks back.
    leap = comparison_period(date(2020, 1, 1), date(2021, 1, 1), "aligned_year")
    assert leap[1] <= date(2020, 1, 1) and leap[1] - leap[0] == timedelta(days=366)


def test_a_period_reaching_today_warns_when_the_data_is_behind() -> None:
    now = datetime(2026, 12, 6, 12, 0)
    today_end = date(2026, 12, 7)
    assert stale_warning(datetime(2026, 12, 6, 11, 55), today_end, now) is None  # 5 minutes
    warning = stale_warning(datetime(2026, 12, 6, 10, 30), today_end, now)
    assert warning is not None and warning.startswith("The newest data is 90 minutes old")
    # a past period is as fresh as it will get; no write recorded is said by the freshness line
    assert stale_warning(datetime(2026, 1, 1), date(2022, 1, 1), now) is None
    assert stale_warning(None, today_end, now) is None
    # the clock's time is aware, ClickHouse's naive (both UTC)
    aware = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert stale_warning(datetime(2026, 12, 6, 10, 30), today_end, aware) == warning


def test_the_completeness_line() -> None:
    line = completeness_line({"interactions": 131_802, "late": 6_590, "dead_letters": 2_101})
    assert line == (
        "Completeness: 6,590 of the period's 131,802 interactions arrived late (5.00%), applied "
        "all the same; 2,101 records were rejected while it ran (dead letters, of any tenant: "
        "Live lists them by reason)."
    )
    assert completeness_line({"interactions": None, "late": None, "dead_letters": 0}).startswith(
        "Completeness: 0 of the period's 0 interactions arrived late, applied"
    )
