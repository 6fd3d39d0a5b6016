"""The events whose rollups and query answers the integration tests know, and how they are
written: through the worker's own logic, one insert into ingest_facts (``load_fixture``)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from streams.logic.ingest import SourceRecord
from tests.support import write_like_the_worker

CUSTOMER = "ph:k1:" + "12" * 16
ALL = {"tenant": "", "industry": "", "use_case": "", "channel": ""}
YEARS = {"start": "2020-01-01 00:00:00", "end": "2022-01-01 00:00:00"}


def ev(
    n: int, journey: str, industry: str, use_case: str, channel: str, at: str, **fields: Any
) -> dict[str, Any]:
    base = {
        "event_id": f"q{n}",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": at,
        "tenant": "acme",
        "industry": industry,
        "use_case": use_case,
        "channel": channel,
        "journey_id": journey,
        "customer_id": CUSTOMER,
        "direction": "outbound",
    }
    return base | fields


def ivr(n: int, seconds: float, outcome: str) -> dict[str, Any]:
    return ev(
        n,
        "f1",
        "financial_services",
        "digital_customer_service",
        "phone",
        f"2021-03-0{n % 9 + 1}T10:00:00Z",
        kind="ivr_call",
        direction="inbound",
        duration_s=seconds,
        outcome=outcome,
    )


def sms(n: int, journey: str, at: str, message: str, **fields: Any) -> dict[str, Any]:
    kind = "message_receipt" if "status" in fields else "message_sent"
    extra = fields if fields else {"purpose": "delivery"}
    return ev(
        n,
        journey,
        "telecom",
        "smart_notification",
        "sms",
        at,
        kind=kind,
        message_id=message,
        **extra,
    )


FIXTURE: list[dict[str, Any] | bytes] = [
    ev(1, "r1", "retail", "smart_notification", "email", "2021-02-01T09:00:00Z"),
    ev(2, "r1", "retail", "smart_notification", "web", "2021-02-01T10:00:00Z"),
    ev(3, "r2", "retail", "personalized_retention", "email", "2021-02-02T09:00:00Z"),
    ev(4, "r2", "retail", "personalized_retention", "email", "2021-02-03T09:00:00Z"),
    ivr(5, 30.0, "self_served"),
    ivr(6, 40.0, "self_served"),
    ivr(7, 200.0, "abandoned"),
    sms(8, "t1", "2021-05-01T12:00:00Z", "m1"),
    sms(9, "t1", "2021-05-01T12:05:00Z", "m2"),
    sms(10, "t1", "2021-05-01T12:01:00Z", "m1", status="read", read_signal="read_receipt"),
    sms(11, "t2", "2020-06-01T12:00:00Z", "m3"),
    sms(12, "t2", "2020-06-01T12:05:00Z", "m3", status="clicked", read_signal="click_proxy"),
    b"{bad",
    b"[]",
    # 2019, outside the years the queries above are asked about.
    ev(
        13,
        "f2",
        "financial_services",
        "smart_notification",
        "phone",
        "2019-04-01T10:00:00Z",
        kind="notification_call",
        duration_s=42.0,
        purpose="appointment",
    ),
    ev(
        14,
        "f2",
        "financial_services",
        "smart_notification",
        "phone",
        "2019-04-02T10:00:00Z",
        kind="notification_call",
        duration_s=48.0,
        purpose="appointment",
    ),
    ev(
        15,
        "f2",
        "financial_services",
        "smart_notification",
        "phone",
        "2019-04-03T10:00:00Z",
        kind="notification_call",
        duration_s=40.0,
        purpose="delivery",
    ),
    ev(
        16,
        "c1",
        "retail",
        "digital_customer_service",
        "chat",
        "2019-07-01T10:00:00Z",
        kind="chatbot_session",
        direction="inbound",
        handed_off=True,
    ),
    ev(
        17,
        "c1",
        "retail",
        "digital_customer_service",
        "chat",
        "2019-07-02T10:00:00Z",
        kind="chatbot_session",
        direction="inbound",
        handed_off=False,
    ),
    ev(
        18,
        "c2",
        "retail",
        "digital_customer_service",
        "chat",
        "2019-07-03T10:00:00Z",
        kind="chatbot_session",
        direction="inbound",
        handed_off=False,
    ),
    # Ten minutes ago: the minute rollup keeps the last two days.
    ev(19, "w1", "retail", "smart_acquisition", "web", "RECENT"),
]
Y2019 = {"start": "2019-01-01 00:00:00", "end": "2020-01-01 00:00:00"}


def load_fixture(
    client: Client,
    events: list[dict[str, Any] | bytes],
    first_offset: int = 0,
    epochs: dict[int, int] | None = None,
    schema_before_leases: bool = False,
    token: str | None = None,
    customers: bool = True,
) -> list[SourceRecord]:
    """Write ``events`` the way the worker writes: one batch through plan_flush into
    ingest_facts (partition 0 of topic ``fixture``, offsets from ``first_offset``), and with
    ``customers`` what the customers stage makes of them; return the records written."""
    now_ms = int(time.time() * 1000)  # dead letters older than their 90-day TTL would vanish
    recent = datetime.fromtimestamp(now_ms / 1000 - 600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = [
        SourceRecord(
            "fixture",
            0,
            first_offset + i,
            now_ms,
            e if isinstance(e, bytes) else json.dumps(e).replace("RECENT", recent).encode(),
        )
        for i, e in enumerate(events)
    ]
    # ingest_facts as migrations before 0005 made it lacks the columns 0005 and 0006 added, and
    # every column from 0009's on
    from streams.logic.facts import FACT_COLUMNS

    since_0009 = FACT_COLUMNS[FACT_COLUMNS.index("sign") :]
    later = frozenset({"epoch", "original_size", "original_sha256", *since_0009})
    write_like_the_worker(
        client,
        records,
        now_ms=now_ms,
        epochs=epochs,
        omit=later if schema_before_leases else frozenset(),
        token=token,
        customers=customers,
    )
    return records


# The fixture with a reply to m3 (after its click), a message that failed and a social
# conversation the brand answered (contract 1.1):
# what reaches every table the views write, for the tests that must see rows in each (the
# named queries' answers rest on FIXTURE alone).
EVERY_TABLE: list[dict[str, Any] | bytes] = [
    *FIXTURE,
    sms(20, "t2", "2020-06-01T12:09:00Z", "m3", status="replied", read_signal="reply_proxy"),
    sms(21, "t3", "2020-07-01T12:00:00Z", "m4"),
    sms(22, "t3", "2020-07-01T12:00:05Z", "m4", status="failed", error_code="30003"),
    ev(
        23,
        "s1",
        "retail",
        "digital_customer_service",
        "social",
        "2020-08-01T09:00:00Z",
        kind="message_received",
        direction="inbound",
        message_id="post-1",
        conversation_id="c1",
    ),
    ev(
        24,
        "s1",
        "retail",
        "digital_customer_service",
        "social",
        "2020-08-01T09:20:00Z",
        conversation_id="c1",
    ),
]
