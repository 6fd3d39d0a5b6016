"""The running dashboard in headless Chromium: every page drawn, no Streamlit exception shown,
a screenshot of each, and the sidebar's filters carried from page to page.

The data is the named-query fixture (tests/integration/test_named_queries.py) with contract
1.1's events in the default period (2021) added, so the charts each page must draw are known.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from playwright.sync_api import Browser

from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from tests.browser import PAGE_PATHS, open_and_wait, wait_drawn
from tests.e2e.conftest import serve_dashboard
from tests.fixture_events import FIXTURE, ev, load_fixture, sms
from tests.support import fresh_database

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(os.environ.get("JOURNEY_SCREENSHOTS", "build/screenshots"))
CHARTS = {
    "Overview": 1,  # interactions per month by channel
    "Channel mix": 2,
    "Use cases": 2,
    "Voice": 3,  # + IVR escape
    "Messaging": 7,  # + failures by error code, read speed by signal
    "Journeys": 6,  # + bot containment, social first response, leakage, repeat contact
    "Live": 2,
    "Report": 1,
}


def _dcs(n: int, channel: str, at: str, **fields: Any) -> dict[str, Any]:
    return ev(n, f"v{n}", "retail", "digital_customer_service", channel, at, **fields)


# Contract 1.1's events in 2021: a call that asked for a person and was left in the menus, a
# bot session that resolved alone, a failed SMS with its error code, a social conversation.
CONTRACT_1_1 = [
    _dcs(101, "phone", "2021-04-01T10:00:00Z", kind="ivr_call", direction="inbound",
         duration_s=80.0, outcome="abandoned", agent_requested=True, exit_reason="hung_up"),
    _dcs(102, "chat", "2021-04-01T11:00:00Z", kind="chatbot_session", direction="inbound",
         handed_off=False, resolved=True, duration_s=90.0),
    sms(103, "v103", "2021-04-02T12:00:00Z", "m103"),
    sms(104, "v103", "2021-04-02T12:00:05Z", "m103", status="failed", error_code="30007"),
    _dcs(105, "social", "2021-04-03T09:00:00Z", kind="message_received", direction="inbound",
         message_id="post-105", conversation_id="c105"),
    ev(106, "v105", "retail", "digital_customer_service", "social", "2021-04-03T09:40:00Z",
       conversation_id="c105"),
]  # fmt: skip


@pytest.fixture(scope="module")
def browsed(services: dict[str, Any]) -> tuple[str, Client]:
    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    client = connect(url)
    load_fixture(client, [*FIXTURE, *CONTRACT_1_1])
    return url, client


@pytest.fixture(scope="module")
def dashboard(
    browsed: tuple[str, Client], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from serve_dashboard(browsed[0], tmp_path_factory)


@pytest.mark.parametrize("title", list(PAGE_PATHS))
def test_page_draws_without_exception(dashboard: str, browser: Browser, title: str) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        drawn = open_and_wait(page, f"{dashboard}/{PAGE_PATHS[title]}", title)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{PAGE_PATHS[title] or 'overview'}.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert drawn.exceptions == [], drawn.exceptions
    assert drawn.errors == [], drawn.errors
    assert drawn.charts == CHARTS[title]
    assert shot.stat().st_size > 10_000  # a drawn page, not a blank one
    print(f"{title}: drawn in {drawn.seconds:.2f} s, screenshot {shot}")


def test_sidebar_filters_follow_the_reader_across_pages(dashboard: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    try:
        open_and_wait(page, dashboard, "Overview")
        page.get_by_test_id("stSelectbox").filter(has_text="Industry").click()
        page.get_by_role("option", name="Retail", exact=True).click()
        page.get_by_text("filtered to industry Retail").wait_for()
        page.get_by_test_id("stSidebarNav").get_by_text("Channel mix").click()
        import time

        drawn = wait_drawn(page, "Channel mix", time.monotonic())
        assert drawn.exceptions == []
        assert page.get_by_text("filtered to industry Retail").count() == 1
    finally:
        page.close()
