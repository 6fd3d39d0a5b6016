"""The dashboard's Live page, driven by Streamlit's AppTest against the embedded ClickHouse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.logic.facts import default
from streams.logic.rows import INTERACTION_COLUMNS
from streams.settings import Settings
from tests.support import account_url, free_port, write_like_the_worker

pytestmark = pytest.mark.integration
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "live.py")


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
    # Contract 1.1's fields, absent: their columns' defaults.
    return [values[c] if c in values else default(c) for c in INTERACTION_COLUMNS]


def test_live_page_explains_an_unreachable_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLICKHOUSE_URL", f"http://127.0.0.1:{free_port()}/journey")
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, app.exception
    assert any("unreachable" in e.value for e in app.error)


def test_live_page_shows_minutes_freshness_and_dead_letters(
    settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data written the worker's way: a recent event, a broken record, the progress rows."""
    import json
    import time

    from streams.logic.ingest import SourceRecord

    settings = settings_factory()
    url = settings.clickhouse_url.get_secret_value()
    migrate(url)
    now_ms = int(time.time() * 1000)
    event = dict(zip(INTERACTION_COLUMNS, row(1, "sms"), strict=False))
    event = {
        k: v
        for k, v in event.items()
        if k
        in (
            "event_id",
            "schema_version",
            "kind",
            "tenant",
            "industry",
            "use_case",
            "channel",
            "journey_id",
            "customer_id",
            "direction",
        )
    }
    event["occurred_at"] = datetime.fromtimestamp(now_ms / 1000 - 120, UTC).isoformat()
    records = [
        SourceRecord(settings.topic_interactions, 2, 0, now_ms, json.dumps(event).encode()),
        SourceRecord(settings.topic_interactions, 2, 1, now_ms, b"not json"),
    ]
    write_like_the_worker(connect(url), records, now_ms=now_ms, lags={2: 0}, worker="test")
    monkeypatch.setenv("CLICKHOUSE_URL", account_url(url, "dashboard"))
    monkeypatch.setenv("JOURNEY_TOPIC_PREFIX", settings.topic_prefix)
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, app.exception
    tables = {t.value.index.name: t.value for t in app.table}
    assert tables["kafka_partition"].loc[2, "lag"] == 0  # freshness of partition 2
    assert list(tables["code"].index) == ["event:is not JSON"]
    assert any("last flush" in c.value for c in app.caption)
    assert len(app.get("vega_lite_chart")) == 2  # per minute, and by channel
    assert app.metric[0].value == "1"
    assert list(tables["event_id"]["channel"]) == ["sms"]
    (download,) = app.get("download_button")
    assert "with its window" in download.proto.label
