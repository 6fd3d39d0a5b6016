"""The dashboard in headless Chromium on two calibrated years (the simulator's data, as the
demo has it), not only on the small fixture: every page draws, every comparison card shows a
change, no slug reaches a visible label, and every chart coloured by channel uses the one
palette (read from the chart specs the browser received). Screenshots go to
build/screenshots/calibrated-*; docs/images holds two of them for the README."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from playwright.sync_api import Browser

from dashboard.labels import CHANNEL_COLOURS
from streams import vocabulary as v
from tests.browser import PAGE_PATHS, capture_chart_specs, colour_scales, open_and_wait
from tests.e2e.conftest import serve_dashboard

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(os.environ.get("JOURNEY_SCREENSHOTS", "build/screenshots"))
# Pages whose cards compare the period with the comparison period (Report counts findings;
# Live shows the last hour as it is).
COMPARED = ("Overview", "Voice", "Messaging", "Journeys")
# Pages with at least one chart coloured by channel.
CHANNEL_COLOURED = ("Overview", "Channel mix", "Use cases")
# Every value of the vocabularies that is written as a slug (an underscore in it).
SLUGS = sorted(
    {
        value
        for values in (
            v.INDUSTRIES, v.USE_CASES, v.KINDS, v.IVR_OUTCOMES, v.READ_SIGNALS,
            v.IVR_EXIT_REASONS,
        )
        for value in values
        if "_" in value
    }
)  # fmt: skip
_CARDS = """() => [...document.querySelectorAll('[data-testid="stMetric"]')].map(m => ({
    label: m.querySelector('[data-testid="stMetricLabel"]')?.innerText ?? '',
    delta: m.querySelector('[data-testid="stMetricDelta"]')?.innerText ?? null,
}))"""


@pytest.fixture(scope="module")
def dashboard(
    calibrated: tuple[str, Client], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from serve_dashboard(calibrated[0], tmp_path_factory)


@pytest.mark.parametrize("title", list(PAGE_PATHS))
def test_every_page_draws_on_calibrated_data(dashboard: str, browser: Browser, title: str) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    specs = capture_chart_specs(page)
    try:
        drawn = open_and_wait(page, f"{dashboard}/{PAGE_PATHS[title]}", title)
        cards: list[dict[str, Any]] = page.evaluate(_CARDS)
        text = (
            page.inner_text("section.main")
            if page.query_selector("section.main")
            else (page.inner_text("body"))
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"calibrated-{PAGE_PATHS[title] or 'overview'}.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert drawn.exceptions == [], drawn.exceptions
    assert drawn.errors == [], drawn.errors
    if title != "Live":  # the last hour: the calibrated years are long past
        assert drawn.charts >= 1, f"{title} drew no chart on two calibrated years"
    if title in COMPARED:
        assert cards, f"{title} shows no card"
        unchanged = [c["label"] for c in cards if not c["delta"]]
        assert not unchanged, f"{title}: cards without a change: {unchanged}"
    shown = [slug for slug in SLUGS if slug in text]
    assert not shown, f"{title} shows slugs in its visible text: {shown}"
    # Channel colours: every chart the browser received that colours by channel uses the one
    # palette, so a channel has the same colour on every page.
    assert len(specs) >= drawn.charts, (len(specs), drawn.charts)
    palette = {"domain": list(CHANNEL_COLOURS), "range": list(CHANNEL_COLOURS.values())}
    scales = [scale for spec in specs for scale in colour_scales(spec, "channel")]
    assert all(scale == palette for scale in scales), [s for s in scales if s != palette]
    if title in CHANNEL_COLOURED:
        assert scales, f"{title} drew no chart coloured by channel"
    print(
        f"{title}: {drawn.charts} charts ({len(scales)} coloured by channel), {len(cards)} "
        f"cards, drawn in {drawn.seconds:.2f} s"
    )
