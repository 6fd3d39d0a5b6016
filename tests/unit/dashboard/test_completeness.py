"""The note under each figure: as-of time, late arrivals, and kinds that stopped arriving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.completeness import KindFigures, by_kind, note, quiet_warning

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1)  # what the query's LEFT JOIN gives a kind quiet for a day


def figures(**kinds: KindFigures) -> dict[str, KindFigures]:
    return dict(kinds)


def test_rows_are_read_by_kind_and_an_unmatched_join_has_no_newest_minute() -> None:
    rows = [
        {"kind": "ivr_call", "interactions": 40, "late": 2, "last_day": 1440,
         "newest_minute": datetime(2026, 12, 6, 21, 58)},
        {"kind": "touch", "interactions": 7, "late": 0, "last_day": 0, "newest_minute": EPOCH},
    ]  # fmt: skip
    found = by_kind(rows)
    assert found["ivr_call"] == KindFigures(40, 2, 1440, datetime(2026, 12, 6, 21, 58, tzinfo=UTC))
    assert found["touch"] == KindFigures(7, 0, 0, None)


def test_the_note_sums_the_figures_kinds_and_says_when_it_was_read() -> None:
    found = figures(
        message_sent=KindFigures(900, 9, 0, None),
        message_receipt=KindFigures(100, 1, 0, None),
        ivr_call=KindFigures(5_000, 500, 0, None),  # not counted by this figure
    )
    assert note(("message_sent", "message_receipt"), found, NOW) == (
        "As of 2026-12-06 22:00:00 UTC: 1,000 interactions (Message sent and Message receipt) "
        "in the period, 10 of them arrived late (1.00%), applied all the same."
    )
    everything = ("touch", "ivr_call", "message_sent")
    assert note(everything, found, NOW).startswith(
        "As of 2026-12-06 22:00:00 UTC: 5,900 interactions in"
    )


def test_a_figure_with_no_interaction_says_so_without_a_share() -> None:
    assert note(("chatbot_session",), {}, NOW) == (
        "As of 2026-12-06 22:00:00 UTC: 0 interactions (Chatbot session) in the period, 0 of "
        "them arrived late, applied all the same."
    )


def busy(minutes_ago: float, last_day: int) -> KindFigures:
    newest = (NOW - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    return KindFigures(10_000, 0, last_day, newest)


@pytest.mark.parametrize(
    ("minutes_ago", "last_day", "quiet"),
    [
        (5, 1440, False),  # a minute apart on average: five minutes is not yet quiet
        (12, 1440, True),  # ten mean gaps (10 min) and the floor (10 min) both passed
        (40, 48, False),  # every 30 min: quiet only after 300 min
        (320, 48, True),
        (2, 100_000, False),  # a busy kind is never quiet before the 10-minute floor
        (12, 100_000, True),
    ],
)
def test_a_kind_is_quiet_after_ten_mean_gaps_and_ten_minutes(
    minutes_ago: float, last_day: int, quiet: bool
) -> None:
    found = figures(ivr_call=busy(minutes_ago, last_day))
    warning = quiet_warning(("ivr_call",), found, NOW, reaches_today=True)
    assert (warning is not None) == quiet, warning


def test_the_warning_names_each_quiet_kind_with_its_silence_and_usual_gap() -> None:
    found = figures(ivr_call=busy(181, 1440), notification_call=busy(1, 1440))
    warning = quiet_warning(("ivr_call", "notification_call"), found, NOW, reaches_today=True)
    assert warning == (
        "This figure may be short: no IVR call for 3 h 0 min (one every 60 s over the last "
        "day). Their source may have stopped publishing while other interactions still arrive."
    )


def test_no_warning_for_a_past_period_or_a_kind_with_nothing_in_the_last_day() -> None:
    found = figures(ivr_call=busy(600, 1440), touch=KindFigures(5, 0, 0, None))
    assert quiet_warning(("ivr_call",), found, NOW, reaches_today=False) is None
    assert quiet_warning(("touch", "chatbot_session"), found, NOW, reaches_today=True) is None
