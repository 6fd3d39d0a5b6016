"""What the browser tests share: headless Chromium, and the dashboard served on a database
through its read-only account (as `journey up` gives it: the dashboard refuses one that can
write)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from streams.settings import Settings
from tests.browser import chromium, dashboard_server
from tests.support import account_url, free_port


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def serve_dashboard(url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on ``url``'s database, as its read-only account; yields its base URL."""
    reader = account_url(url, "dashboard")
    settings = Settings(clickhouse_url=reader, dashboard_port=free_port())
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    with dashboard_server(settings, log) as base:
        yield base
