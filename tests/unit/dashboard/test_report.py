"""The Report page's arithmetic: published figures measured on hand-made rollup cells."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from dashboard.report import Cells, measure, measure_with_error, report
from streams.simulate.calibration import Calibration


def cells() -> Cells:
    interactions = pd.DataFrame(
        [
            # year, industry, use_case, channel, kind, interactions
            (2021, "retail", "smart_notification", "email", "touch", 60),
            (2021, "retail", "smart_notification", "in_store", "touch", 20),
            (2021, "retail", "smart_notification", "sms", "message_sent", 10),
            (2021, "retail", "smart_notification", "sms", "message_receipt", 9),
            (2021, "telecom", "digital_customer_service", "web", "touch", 6),
            (2021, "telecom", "digital_customer_service", "phone", "ivr_call", 4),
            (2020, "retail", "smart_notification", "email", "touch", 30),
            (2020, "retail", "smart_notification", "sms", "message_sent", 1),
            (2020, "telecom", "digital_customer_service", "phone", "ivr_call", 2),
        ],
        columns=["year", "industry", "use_case", "channel", "kind", "interactions"],
    )
    calls = pd.DataFrame(
        [
            (2021, "telecom", "ivr_call", 4, 140_000, 1, 1),
            (2020, "telecom", "ivr_call", 2, 206_000, 2, 0),
        ],
        columns=[
            "year", "industry", "kind", "calls", "duration_ms", "agent_requested_calls",
            "trapped_calls",
        ],
    )  # fmt: skip
    reads = pd.DataFrame(
        [(2021, "retail", "sms", 10, 9), (2021, "retail", "messaging", 5, 1)],
        columns=["year", "industry", "channel", "read_pairs", "read_within_3_min"],
    )
    journeys = pd.DataFrame(
        [(2021, "insurance", 10, 30), (2021, "retail", 4, 9)],
        columns=["year", "industry", "journeys", "channels"],
    )
    messages = pd.DataFrame(
        [(2021, "retail", "sms", 10, 4, 6, 9), (2021, "retail", "messaging", 10, 10, 0, 10)],
        columns=[
            "year", "industry", "channel", "sends", "reply_enabled_sends",
            "not_reply_enabled_sends", "delivered",
        ],
    )  # fmt: skip
    chatbot = pd.DataFrame(
        [(2021, "telecom", 20, 5, 6, 12, 1)],
        columns=[
            "year", "industry", "sessions", "handed_off", "handoff_requests",
            "contained_sessions", "denied_handoffs",
        ],
    )  # fmt: skip
    conversations = pd.DataFrame(
        [(2021, "retail", "social", 8, 3, 2), (2021, "retail", "chat", 2, 2, 0)],
        columns=[
            "year", "industry", "channel", "conversations", "answered_within_1h", "waited_a_day"
        ],
    )  # fmt: skip
    customers = pd.DataFrame(
        [
            (2021, "travel_hospitality", 20, 3, 10, 4, 8, 2),
            (2020, "travel_hospitality", 10, 6, 8, 6, 2, 1),
        ],
        columns=[
            "year", "industry", "web_visits", "leaked_visits", "calls_and_chats", "after_web",
            "reasoned_repeats", "same_reason_repeats",
        ],
    )  # fmt: skip
    return Cells(interactions, calls, reads, journeys, messages, chatbot, conversations, customers)


def ratio(cells: str, numerator: str, denominator: str, **more: Any) -> dict[str, Any]:
    return {"metric": "ratio", "year": 2021, "cells": cells, "numerator": numerator,
            "denominator": denominator} | more  # fmt: skip


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        # 60 of the 100 interactions of 2021 (receipts are not interactions)
        ({"metric": "share", "year": 2021, "of": {"channel": "email"}}, 0.60),
        (
            {
                "metric": "share",
                "year": 2021,
                "slice": {"industry": "telecom"},
                "of": {"channel": "web"},
            },
            0.60,
        ),
        ({"metric": "growth", "of": {"channel": "email"}}, 2.0),
        ({"metric": "growth", "of": {"channel": "sms", "kind": "message_sent"}}, 10.0),
        ({"metric": "growth", "of": {"kind": "ivr_call"}}, 2.0),
        ({"metric": "mean", "field": "duration_s", "year": 2021, "of": {"kind": "ivr_call"}}, 35.0),
        (
            {"metric": "mean", "field": "duration_s", "year": 2020, "of": {"kind": "ivr_call"}},
            103.0,
        ),
        ({"metric": "read_within", "seconds": 180, "of": {"channel": "sms"}}, 0.9),
        ({"metric": "channels_per_journey", "of": {"industry": "insurance"}}, 3.0),
        ({"metric": "top_channels_share", "year": 2021, "count": 2}, 0.80),
        # 6 of 10 SMS sends could not be answered; 19 of 20 sends delivered
        (ratio("messages", "not_reply_enabled_sends", "sends", slice={"channel": "sms"}), 0.6),
        (ratio("messages", "delivered", "sends"), 0.95),
        (ratio("calls", "trapped_calls", "calls", slice={"kind": "ivr_call"}), 0.25),
        (ratio("calls", "agent_requested_calls", "calls", year=2020), 1.0),
        (ratio("chatbot", "denied_handoffs", "handoff_requests"), 1 / 6),
        # 2 of the 8 social conversations waited a day or more
        (
            ratio("conversations", "waited_a_day", "conversations", slice={"channel": "social"}),
            0.25,
        ),
        # Medallia's leakage on a travel brand, a year apart: 6 of 10 visits, then 3 of 20
        (ratio("customers", "leaked_visits", "web_visits", year=2020), 0.6),
        (ratio("customers", "leaked_visits", "web_visits"), 0.15),
        (ratio("customers", "after_web", "calls_and_chats"), 0.4),
        (ratio("customers", "same_reason_repeats", "reasoned_repeats"), 0.25),
    ],
)
def test_measure(figure: dict[str, Any], expected: float) -> None:
    assert measure({"id": "f"} | figure, cells(), 2021) == pytest.approx(expected)


def test_figure_years_follow_the_measured_year() -> None:
    shifted = Cells(
        cells().interactions.assign(year=lambda f: f["year"] + 3),
        cells().calls.assign(year=lambda f: f["year"] + 3),
        cells().reads,
        cells().journeys,
        cells().messages,
        cells().chatbot,
        cells().conversations,
        cells().customers,
    )
    figure = {"id": "f", "metric": "mean", "field": "duration_s", "year": 2020}
    assert measure(figure | {"of": {"kind": "ivr_call"}}, shifted, 2024) == pytest.approx(103.0)
    assert measure({"id": "g", "metric": "growth", "of": {"channel": "email"}}, shifted, 2024) == 2


def test_nothing_to_divide_by_is_no_data() -> None:
    figure = {"id": "f", "metric": "channels_per_journey", "of": {"industry": "utilities"}}
    assert measure(figure, cells(), 2021) is None


def test_unsupported_figures_are_named() -> None:
    with pytest.raises(ValueError, match="f: the rollups count reads within 180 s only"):
        measure({"id": "f", "metric": "read_within", "seconds": 60, "of": {}}, cells(), 2021)
    with pytest.raises(ValueError, match="unknown metric 'median'"):
        measure({"id": "f", "metric": "median"}, cells(), 2021)


def test_a_ratio_names_its_cells() -> None:
    with pytest.raises(ValueError, match="no report cells named 'letters'"):
        measure({"id": "f"} | ratio("letters", "a", "b"), cells(), 2021)
    empty = Cells(*(frame.iloc[0:0] for frame in cells().__dict__.values()))
    assert (
        measure({"id": "f"} | ratio("chatbot", "denied_handoffs", "sessions"), empty, 2021) is None
    )


def test_report_rows_say_whether_each_finding_holds() -> None:
    figures = [
        {"id": "a", "source": "email 60%", "metric": "share", "year": 2021,
         "of": {"channel": "email"}, "expected": 0.60},
        {"id": "b", "source": "IVR 35 s", "metric": "mean", "field": "duration_s", "year": 2021,
         "of": {"kind": "ivr_call"}, "expected": 50.0},
        {"id": "c", "source": "top 2 > 95%", "metric": "top_channels_share", "year": 2021,
         "count": 2, "at_least": 0.95},
        {"id": "d", "source": "utilities", "metric": "channels_per_journey",
         "of": {"industry": "utilities"}, "expected": 2.0},
    ]  # fmt: skip
    table = report(figures, cells(), 2021).set_index("id")
    assert table.loc["a", ["published", "measured", "status"]].tolist() == [
        "60.0%",
        "60.0%",
        "as published",
    ]
    assert table.loc["b", "status"] == "differs"  # 35 s against 50 s
    # 80 of 100: 15 points below the floor, more than three standard errors (12 points)
    assert table.loc["c", ["published", "status"]].tolist() == ["at least 95.0%", "differs"]
    assert table.loc["d", ["measured", "status"]].tolist() == ["no data", "no data"]


def test_every_calibrated_figure_can_be_measured() -> None:
    table = report(Calibration.load().figures, cells(), 2021)
    assert len(table) == len(Calibration.load().figures)
    assert set(table["basis"]) == {"published", "model"}
    assert not table["measured"].str.contains("no data").all()


def test_a_gap_chance_alone_explains_is_within_sampling_error() -> None:
    # 4 IVR calls in 2021 against 2 in 2020: x2.0, with a standard error of
    # 2 * sqrt(1/4 + 1/2) = 1.73, so a published x3.0 is within three of them.
    few = {"id": "f", "source": "IVR x3", "metric": "growth", "of": {"kind": "ivr_call"},
           "expected": 3.0}  # fmt: skip
    found = measure_with_error(few, cells(), 2021)
    assert found.value == pytest.approx(2.0)
    assert found.error == pytest.approx(2 * math.sqrt(0.75))
    # e-mail is 60 of 100 interactions: a standard error of 4.8 points (Agresti-Coull: 62 of
    # 104); a published 70% is 10 points (14%) away, within three of them
    share = {"id": "g", "source": "email 70%", "metric": "share", "year": 2021,
             "of": {"channel": "email"}, "expected": 0.70}  # fmt: skip
    table = report([few, share], cells(), 2021).set_index("id")
    assert table.loc["f", ["margin", "status"]].tolist() == ["± 5.20", "within sampling error"]
    assert table.loc["g", ["margin", "status"]].tolist() == ["± 14.4 pts", "within sampling error"]
    exact = {**share, "expected": 0.95}  # 35 points away: more than chance gives
    assert report([exact], cells(), 2021).loc[0, "status"] == "differs"
    # none trapped of 2 calls is not "exactly 0%": its error is that of 2 of 6 (Agresti-Coull)
    none = measure_with_error(ratio("calls", "trapped_calls", "calls", year=2020), cells(), 2021)
    assert (none.value, none.error) == (0.0, pytest.approx(math.sqrt(2 / 6 * 4 / 6 / 6)))
    # a mean carries no error from these cells: 10% or nothing
    mean = {"id": "h", "source": "IVR 50 s", "metric": "mean", "field": "duration_s",
            "year": 2021, "of": {"kind": "ivr_call"}, "expected": 50.0}  # fmt: skip
    assert report([mean], cells(), 2021).loc[0, ["margin", "status"]].tolist() == ["", "differs"]
