"""Alert rules: parsed with errors that name the rule and field; evaluated on counts against
thresholds in points or percent, a direction and a minimum volume; once per rule and period."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dashboard.alerts import (
    Evaluation,
    Rule,
    RuleError,
    alert_row,
    check,
    evaluate,
    load_rules,
    parse_rule,
)

WEEK = (date(2026, 11, 23), date(2026, 11, 30))
YEAR_BEFORE = (date(2025, 11, 24), date(2025, 12, 1))
NO_MIX = pd.DataFrame()


def rule(**fields: Any) -> Rule:
    return parse_rule({"id": "r", "metric": "ivr_mean_s", "change_percent": 10} | fields, "test")


def ivr(calls: int, seconds: float) -> dict[str, Any]:
    return {"ivr_calls": calls, "ivr_duration_ms": calls * seconds * 1000}


def test_an_ivr_call_time_rise_beyond_the_threshold_fires() -> None:
    result = evaluate(rule(direction="up"), WEEK, YEAR_BEFORE, ivr(500, 112), ivr(400, 100), NO_MIX)
    assert result.fired and result.change == pytest.approx(12.0)
    assert result.message == (
        "IVR mean call time rose 12% (1:40 → 1:52), 2026-11-23 to 2026-11-29 against "
        "2025-11-24 to 2025-11-30"
    )
    assert alert_row(result)[:11] == [
        "r", WEEK[0], WEEK[1], *YEAR_BEFORE, "ivr_mean_s", "{}", 112.0, 100.0,
        pytest.approx(12.0), "percent",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("direction", "seconds", "fires"),
    [
        ("up", 112, True),
        ("up", 88, False),  # down 12%: not the direction watched
        ("down", 88, True),
        ("either", 88, True),
        ("either", 109, False),  # 9%: within the threshold
        ("either", 110, True),  # exactly the threshold fires
    ],
)
def test_direction_and_threshold(direction: str, seconds: float, fires: bool) -> None:
    result = evaluate(
        rule(direction=direction), WEEK, YEAR_BEFORE, ivr(500, seconds), ivr(500, 100), NO_MIX
    )
    assert result.fired is fires, result.reason


def test_too_few_events_or_no_data_never_fire() -> None:
    few = evaluate(rule(min_volume=200), WEEK, YEAR_BEFORE, ivr(150, 200), ivr(500, 100), NO_MIX)
    assert not few.fired and few.reason == "too few events (150 < 200)"
    empty = evaluate(rule(min_volume=0), WEEK, YEAR_BEFORE, {}, {}, NO_MIX)
    assert not empty.fired and empty.reason == "no value to compare"


def test_a_share_moves_in_points_and_a_channel_share_reads_the_mix() -> None:
    reads = parse_rule(
        {"id": "sms", "metric": "read_within_3_min_share", "change_points": 2,
         "direction": "down", "slice": {"channel": "sms"}},
        "test",
    )  # fmt: skip
    result = evaluate(
        reads, WEEK, YEAR_BEFORE,
        {"read_pairs": 1000, "read_within_3_min": 870},
        {"read_pairs": 1000, "read_within_3_min": 900}, NO_MIX,
    )  # fmt: skip
    assert result.fired and result.change == pytest.approx(-3.0)
    assert result.message.startswith("Messages read within 3 minutes fell 3.0 points (90.0% →")
    share = parse_rule(
        {"id": "mix", "metric": "channel_share", "change_points": 5,
         "slice": {"industry": "retail", "channel": "email"}},
        "test",
    )  # fmt: skip
    mix = pd.DataFrame(
        [("retail", "email", 600, 400), ("retail", "web", 400, 600)],
        columns=["industry", "channel", "period_interactions", "comparison_interactions"],
    )
    fired = evaluate(share, WEEK, YEAR_BEFORE, {}, {}, mix)
    assert fired.fired and fired.change == pytest.approx(20.0)
    assert fired.message.startswith("E-mail's share of the mix (Retail) rose 20.0 points")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"metric": "ivr_time"}, "unknown metric 'ivr_time'; known: interactions"),
        ({"change_percent": None, "change_points": 3}, "ivr_mean_s is a duration: give its "
         "threshold as change_percent"),
        ({"change_percent": -5}, "change_percent must be a positive number"),
        ({"direction": "sideways"}, "direction must be one of up, down, either"),
        ({"slice": {"region": "eu"}}, "slice may name only tenant, industry"),
        ({"period": "yesterday"}, "period 'yesterday': expected YYYY"),
        ({"targets": ["not a url"]}, "targets must be a list of apprise URLs"),
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"metric": "channel_share", "change_percent": None, "change_points": 2},
         "channel_share needs the channel in its slice"),
    ],
)  # fmt: skip
def test_a_bad_rule_names_itself_and_the_field(fields: dict[str, Any], says: str) -> None:
    entry = {"id": "r", "metric": "ivr_mean_s", "change_percent": 10} | fields
    entry = {k: v for k, v in entry.items() if v is not None}
    with pytest.raises(RuleError, match="^rules.toml rule 1 \\(r\\): " + _escaped(says)):
        parse_rule(entry, "rules.toml rule 1")


def _escaped(text: str) -> str:
    return re.escape(text)


def test_a_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text(
        '[[rule]]\nid = "a"\nmetric = "interactions"\nchange_percent = 20\n'
        'targets = ["json://127.0.0.1:9/hook"]\n'
        '[[rule]]\nid = "a"\nmetric = "interactions"\nchange_percent = 30\n'
    )
    with pytest.raises(RuleError, match="two rules are named 'a'"):
        load_rules(path)
    path.write_text('[[rule]]\nid = "a"\nmetric = ')
    with pytest.raises(RuleError, match="not valid TOML"):
        load_rules(path)
    with pytest.raises(RuleError, match="no such alert rules file"):
        load_rules(tmp_path / "missing.toml")
    shipped = load_rules(Path(__file__).resolve().parents[3] / "deploy" / "alerts.toml")
    assert [r.id for r in shipped] == ["ivr-call-time-up", "sms-reads-slower", "retail-email-share"]


def test_check_delivers_then_records_once_per_period() -> None:
    recorded: list[Evaluation] = []
    sent: list[tuple[tuple[str, ...], str, str]] = []

    def run(name: str, params: dict[str, object]) -> pd.DataFrame:
        this_year = params["start"].year == 2026  # type: ignore[attr-defined]
        return pd.DataFrame([ivr(500, 112 if this_year else 100)])

    def deliver(targets: tuple[str, ...], title: str, body: str) -> bool:
        sent.append((targets, title, body))
        return True

    def already(result: Evaluation) -> bool:
        return any((r.rule.id, r.start) == (result.rule.id, result.start) for r in recorded)

    rules = [rule(targets=["json://127.0.0.1:9/hook"], direction="up")]
    first = check(rules, run, date(2026, 12, 3), already, deliver, recorded.append)
    again = check(rules, run, date(2026, 12, 3), already, deliver, recorded.append)
    assert [outcome for _, outcome in first + again] == ["fired", "fired before"]
    assert len(sent) == 1 and len(recorded) == 1
    assert sent[0][1] == "Alert r" and "rose 12%" in sent[0][2]
    assert (recorded[0].start, recorded[0].end) == WEEK  # last week, seen on Thursday 3 Dec


def test_a_failed_delivery_is_not_recorded() -> None:
    recorded: list[Evaluation] = []

    def run(name: str, params: dict[str, object]) -> pd.DataFrame:
        this_year = params["start"].year == 2026  # type: ignore[attr-defined]
        return pd.DataFrame([ivr(500, 112 if this_year else 100)])

    results = check(
        [rule()], run, date(2026, 12, 3), lambda _: False, lambda *_: False, recorded.append
    )
    assert [outcome for _, outcome in results] == ["delivery failed"] and recorded == []
