"""The worker's scheduled alert check: every ``JOURNEY_ALERTS_EVERY_S`` seconds on the
leader only (one check per consumer group however many workers run), off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from clickhouse_connect.driver.client import Client

from dashboard import alerts
from streams import alerting
from streams.errors import first_line
from streams.settings import Settings

log = logging.getLogger(__name__)


def register(app: Any, settings: Settings, client: Callable[[], Client]) -> None:
    """Check the alert rules on a timer when the setting asks for it. The rules are read now,
    so a broken rules file stops the worker at start with the rule and field named."""
    if not settings.alerts_every_s:
        return
    rules = alerts.load_rules(settings.alerts_file)

    @app.timer(settings.alerts_every_s, on_leader=True)
    async def check_alerts() -> None:
        try:
            results = await asyncio.to_thread(alerting.check_now, client(), rules)
        except Exception as exc:  # ClickHouse away, a target refusing: the next tick retries
            log.warning("alert check failed: %s", first_line(exc))
            return
        for line in alerting.summary(results):
            log.info("alert %s", line)
