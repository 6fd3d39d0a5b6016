"""The dashboard's Live page, driven by Streamlit's AppTest against the embedded ClickHouse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from streams.clickhouse import connect
from streams.logic.rows import INTERACTION_COLUMNS
from streams.migrations import migrate
from streams.settings import Settings
from tests.support import free_port

pytestmark = pytest.mark.integration
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def row(i: int, channel: str) -> list[object]:
    values = {
        "event_id": f"e{i}",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": datetime(2021, 3, 1, 12, tzinfo=UTC),
        "tenant": "shop-one",
        "industry": "retail",
        "use_case": "smart_notification",
        "channel": channel,
        "journey_id": f"j{i}",
        "customer_id": "ph:k1:" + "0" * 32,
        "direction": "outbound",
        "duration_s": 0.0,
        "outcome": "",
        "purpose": "",
        "message_id": "",
        "status": "",
        "read_signal": "",
        "handed_off": False,
        "kafka_partition": 0,
        "kafka_offset": i,
    }
    return [values[c] for c in INTERACTION_COLUMNS]


def test_live_page_shows_what_clickhouse_holds(
    settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_factory()
    url = settings.clickhouse_url.get_secret_value()
    migrate(url)
    connect(url).insert(
        "interactions",
        [row(i, "email" if i < 7 else "web") for i in range(10)],
        column_names=list(INTERACTION_COLUMNS),
    )
    monkeypatch.setenv("CLICKHOUSE_URL", url)
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, app.exception
    assert app.metric[0].value == "10"
    assert app.dataframe[0].value.shape[0] == 10


def test_live_page_explains_an_unreachable_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKHOUSE_URL", f"http://127.0.0.1:{free_port()}/journey")
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, app.exception
    assert any("unreachable" in e.value for e in app.error)
