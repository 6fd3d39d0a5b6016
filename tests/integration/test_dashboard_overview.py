"""The Overview page (the dashboard's default), driven by AppTest on the named-query fixture."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from streamlit.testing.v1 import AppTest

from dashboard.filters import aligned_comparison
from tests.support import account_url, free_port

pytestmark = pytest.mark.integration
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def test_overview_cards_with_change_versus_the_aligned_year(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _ = loaded
    monkeypatch.setenv("CLICKHOUSE_URL", account_url(url, "dashboard"))
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, app.exception
    # The fixture's last hour is today's recent event: set the period to 2021 by hand.
    app.sidebar.date_input[0].set_value(date(2021, 1, 1))
    app.sidebar.date_input[1].set_value(date(2021, 12, 31)).run()
    assert not app.exception, app.exception
    cards: dict[str, Any] = {m.label: m for m in app.metric}
    assert cards["Interactions"].value == "9"
    assert cards["Channels per journey"].value == "1.25"
    assert cards["IVR mean call duration (s)"].value == "90.0"
    # 2020 (aligned) had 1 interaction (one SMS send): +800%.
    assert cards["Interactions"].delta == "+800.0%"
    # A share moves in percentage points (all of 2021's timed reads within 3 minutes, none of
    # 2020's).
    assert cards["Read within 3 minutes"].delta == "+100.0 pts"
    assert any("compared with" in c.value for c in app.caption)


def test_overview_explains_an_unreachable_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKHOUSE_URL", f"http://127.0.0.1:{free_port()}/journey")
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, app.exception
    assert any("unreachable" in e.value for e in app.error)


def test_comparison_is_a_year_earlier_on_the_same_weekday() -> None:
    start, end = aligned_comparison(date(2021, 3, 1), date(2021, 4, 1))
    assert (start, end) == (date(2020, 3, 2), date(2020, 4, 2))
    assert start.weekday() == date(2021, 3, 1).weekday()
