"""A real dashboard in a real browser: the Streamlit server as a child process, and Debian's
headless Chromium driven by Playwright. Shared by the browser test and the query benchmark."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from deploy.local.stack import dashboard_command
from streams.settings import Settings

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Every page and the charts it draws on the named-query fixture (see test_dashboard_pages).
PAGE_PATHS = {
    "Overview": "",
    "Channel mix": "channel_mix",
    "Use cases": "use_cases",
    "Voice": "voice",
    "Messaging": "messaging",
    "Journeys": "journeys",
    "Live": "live",
    "Report": "report",
}


def chromium_path() -> str:
    """Debian's Chromium; a readable error when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError(
            "Chromium is not installed: apt-get install chromium (make test does this)"
        )
    return found


@contextmanager
def dashboard_server(settings: Settings, log: Path) -> Iterator[str]:
    """``journey dashboard``'s Streamlit command for ``settings``; yields its base URL."""
    env = os.environ | {"CLICKHOUSE_URL": settings.clickhouse_url.get_secret_value()}
    base = f"http://127.0.0.1:{settings.dashboard_port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            dashboard_command(settings),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so the stop takes every child with it
        )
        try:
            _wait_healthy(base, process, log)
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the dashboard exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the dashboard did not answer within 60 s:\n{log.read_text()}")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium, closed (with its processes) at the end."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


SETTLE_S = 0.5
_DRAWN_STATE = """() => {
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    const running = document.querySelector('[data-testid="stStatusWidget"]') !== null;
    const skeletons = document.querySelectorAll('[data-testid^="stSkeleton"]').length;
    const drawn = charts.every(c => c.querySelector('canvas, svg'));
    const elements = document.querySelectorAll('[data-testid]').length;
    return {ready: !running && skeletons === 0 && drawn, charts: charts.length, elements};
}"""


@dataclass(frozen=True)
class DrawnPage:
    """What a page showed once fully drawn, and how long that took."""

    title: str
    seconds: float
    charts: int
    exceptions: list[str]
    errors: list[str]


def capture_chart_specs(page: Page) -> list[dict[str, Any]]:
    """The Vega-Lite spec of every chart the page's browser receives from now on, as it came
    over Streamlit's websocket (its protobuf ``ForwardMsg``), appended as frames arrive: what
    the browser drew, not what the server meant to send."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    specs: list[dict[str, Any]] = []

    def on_frame(payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "vega_lite_chart":
                specs.append(json.loads(element.vega_lite_chart.spec))

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return specs


def colour_scales(spec: Any, field: str) -> list[dict[str, Any]]:
    """Every colour scale of an encoding of ``field`` in ``spec`` (layers and facets too)."""
    found: list[dict[str, Any]] = []
    if isinstance(spec, list):
        for item in spec:
            found += colour_scales(item, field)
    elif isinstance(spec, dict):
        for key, value in spec.items():
            if key == "encoding" and isinstance(value, dict):
                for channel in ("color", "fill", "stroke"):
                    enc = value.get(channel)
                    if isinstance(enc, dict) and enc.get("field") == field:
                        found.append(enc.get("scale") or {})
            elif key not in ("datasets", "data"):
                found += colour_scales(value, field)
    return found


def open_and_wait(page: Page, url: str, title: str, timeout_s: float = 60) -> DrawnPage:
    """Open ``url`` and wait until the page is fully drawn: its title shown, the script run
    finished, and every chart rendered (a Vega canvas or SVG in each chart container)."""
    started = time.monotonic()
    page.goto(url)
    return wait_drawn(page, title, started, timeout_s)


def wait_drawn(page: Page, title: str, started: float, timeout_s: float = 60) -> DrawnPage:
    """Wait for the page titled ``title`` to be fully drawn (see ``open_and_wait``).

    Streamlit gives no "done" event: a page is drawn when its script run has ended (no running
    indicator), no element is still a loading skeleton, every chart holds its canvas or SVG,
    and nothing changed for ``SETTLE_S``. The time reported is when that state began.
    """
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    ready_since: float | None = None
    last: object = None
    while time.monotonic() < deadline:
        state = page.evaluate(_DRAWN_STATE)
        if state["ready"] and state == last:
            assert ready_since is not None
            if time.monotonic() - ready_since >= SETTLE_S:
                break
        elif state["ready"]:
            ready_since = time.monotonic()
        else:
            ready_since = None
        last = state
        time.sleep(0.05)
    else:
        raise TimeoutError(f"page {title!r} was not fully drawn within {timeout_s} s: {last}")
    assert ready_since is not None
    seconds = ready_since - started
    return DrawnPage(
        title=title,
        seconds=seconds,
        charts=page.locator('[data-testid="stVegaLiteChart"]').count(),
        exceptions=page.locator('[data-testid="stException"]').all_inner_texts(),
        errors=page.locator('[data-testid="stAlertContentError"]').all_inner_texts(),
    )
