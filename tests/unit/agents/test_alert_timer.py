"""The worker's alert timer: registered only when asked, on the leader, every N seconds; each
tick runs the check off the event loop and survives a failure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dashboard.alerts import RuleError
from streams import alerting
from streams.agents import alert_timer
from streams.settings import Settings


class FakeApp:
    """Records what Faust's ``app.timer`` is asked for."""

    def __init__(self) -> None:
        self.timers: list[tuple[float, bool, Callable[[], Any]]] = []

    def timer(self, interval: float, on_leader: bool = False) -> Callable[[Any], Any]:
        def register(function: Callable[[], Any]) -> Callable[[], Any]:
            self.timers.append((interval, on_leader, function))
            return function

        return register


RULES = Path(__file__).resolve().parents[3] / "deploy" / "alerts.toml"


def test_no_timer_unless_asked(settings_factory: Callable[..., Settings]) -> None:
    app = FakeApp()
    alert_timer.register(app, settings_factory(alerts_every_s=0), lambda: None)  # type: ignore[arg-type,return-value]
    assert app.timers == []


def test_the_leader_checks_every_n_seconds_and_survives_a_failure(
    settings_factory: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FakeApp()
    settings = settings_factory(alerts_every_s=900, alerts_file=RULES)
    alert_timer.register(app, settings, lambda: "client")  # type: ignore[arg-type,return-value]
    ((interval, on_leader, tick),) = app.timers
    assert (interval, on_leader) == (900, True)
    seen: list[tuple[Any, list[str]]] = []

    def check_now(client: Any, rules: list[Any]) -> list[Any]:
        seen.append((client, [r.id for r in rules]))
        return []

    monkeypatch.setattr(alerting, "check_now", check_now)
    asyncio.run(tick())
    assert seen == [("client", ["ivr-call-time-up", "sms-reads-slower", "retail-email-share"])]

    def broken(client: Any, rules: list[Any]) -> list[Any]:
        raise ConnectionError("ClickHouse went away")

    monkeypatch.setattr(alerting, "check_now", broken)
    asyncio.run(tick())  # logged, not raised: the next tick tries again
    assert "alert check failed: ClickHouse went away" in caplog.text


def test_a_broken_rules_file_stops_the_worker_at_start(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    rules = tmp_path / "alerts.toml"
    rules.write_text('[[rule]]\nid = "x"\nmetric = "mood"\nchange_percent = 5\n')
    settings = settings_factory(alerts_every_s=60, alerts_file=rules)
    with pytest.raises(RuleError, match=r"rule 1 \(x\): unknown metric 'mood'"):
        alert_timer.register(FakeApp(), settings, lambda: None)  # type: ignore[arg-type,return-value]
