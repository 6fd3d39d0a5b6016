"""The customer-level named queries (leakage_rate, repeat_contact_rate) on customers whose
answers are worked out by hand: a pair across midnight, pairs at and just past each window's
edge, and a pair split by a pseudonymisation key rotation. Written the worker's way: the
ingest stage's plan hands the customers' events on, the customers stage's plan counts them,
one insert through the views."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.logic.ingest import SourceRecord
from tests.support import fresh_database, write_like_the_worker

pytestmark = pytest.mark.integration
_ids = count()
YEAR = {"start": "2021-01-01 00:00:00", "end": "2022-01-01 00:00:00"}
ALL = {"tenant": "", "industry": "", "use_case": ""}


def who(name: str, key: str = "k1") -> str:
    return f"ph:{key}:" + name.encode().hex().ljust(32, "0")[:32]


def event(kind: str, channel: str, customer: str, when: datetime, **more: Any) -> dict[str, Any]:
    n = next(_ids)
    return {
        "event_id": f"e{n}",
        "schema_version": 1,
        "kind": kind,
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "tenant": "travelco",
        "industry": "travel_hospitality",
        "use_case": "digital_customer_service",
        "channel": channel,
        "journey_id": f"j{n}",
        "customer_id": customer,
        "direction": "inbound",
    } | more


def web(customer: str, when: datetime) -> dict[str, Any]:
    return event("touch", "web", customer, when)


def call(customer: str, when: datetime, **more: Any) -> dict[str, Any]:
    return event("ivr_call", "phone", customer, when, duration_s=60, outcome="self_served", **more)


def chat(customer: str, when: datetime, **more: Any) -> dict[str, Any]:
    return event("chatbot_session", "chat", customer, when, handed_off=False, **more)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


HAND_WORKED = [
    # A: a visit at 23:30 and a call at 00:15 the next day: leakage across midnight.
    web(who("a"), at("2021-03-01T23:30:00")),
    call(who("a"), at("2021-03-02T00:15:00")),
    # B: the call exactly 24 hours after the visit: inside the window.
    web(who("b"), at("2021-04-01T10:00:00")),
    call(who("b"), at("2021-04-02T10:00:00")),
    # C: one second more: outside.
    web(who("c"), at("2021-05-01T10:00:00")),
    call(who("c"), at("2021-05-02T10:00:01")),
    # D: the key rotated between the visit and the call: two pseudonyms, no pair; the call is
    # within a window of key k2's first use by the tenant: the error bar counts it.
    web(who("d"), at("2021-06-01T09:00:00")),
    call(who("d", "k2"), at("2021-06-01T11:00:00")),
    # E: a billing call, a billing chat exactly 7 days later (a repeat, the same reason), a
    # delivery call 7 days and a millisecond after the chat (no repeat).
    call(who("e"), at("2021-07-01T10:00:00"), contact_reason="billing"),
    chat(who("e"), at("2021-07-08T10:00:00"), contact_reason="billing"),
    call(who("e"), at("2021-07-15T10:00:00.001"), contact_reason="delivery"),
]


def write_both_stages(client: Client, events: list[dict[str, Any]]) -> None:
    """The worker's way: the ingest stage's plan with the hand-over on, then the customers
    stage's plan over what it handed on (``write_like_the_worker``); every event here is a
    customer's own, so all of them reach the customers stage."""
    now_ms = int(time.time() * 1000)
    records = [
        SourceRecord("in", 0, i, now_ms, json.dumps(e).encode()) for i, e in enumerate(events)
    ]
    write_like_the_worker(client, records, now_ms=now_ms)
    handed = client.command("SELECT sum(digital) + sum(contacts) FROM rollup_customers_daily")
    assert int(handed) == len(events)


@pytest.fixture(scope="module")
def customers_db(services: dict[str, Any]) -> Client:
    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    client = connect(url)
    write_both_stages(client, HAND_WORKED)
    return client


def run(client: Client, name: str, **params: Any) -> list[dict[str, Any]]:
    result = client.query(queries.load(name).sql, parameters=params)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def test_leakage_rate_by_hand(customers_db: Client) -> None:
    (row,) = run(customers_db, "leakage_rate", **YEAR, **ALL, leakage_window_h=24)
    assert (row["year"], row["industry"], row["use_case"]) == (
        2021, "travel_hospitality", "digital_customer_service",
    )  # fmt: skip
    # visits A, B, C, D; leaked A (across midnight) and B (at the edge); not C (past it), not
    # D (rotated)
    assert (row["web_visits"], row["leaked_visits"], row["leakage_rate"]) == (4, 2, 0.5)
    # calls and chats: A, B, C, D, and E's three; after a visit: A and B
    assert (row["calls_and_chats"], row["after_web"]) == (7, 2)
    assert row["after_web_share"] == pytest.approx(2 / 7, abs=1e-6)
    assert row["near_rotation"] == 1  # D's call, under key k2 the hour it was first used


def test_repeat_contact_rate_by_hand(customers_db: Client) -> None:
    (row,) = run(customers_db, "repeat_contact_rate", **YEAR, **ALL, repeat_window_h=168)
    assert (row["contacts"], row["repeats"], row["followed"]) == (7, 1, 1)
    assert row["repeat_rate"] == pytest.approx(1 / 7, abs=1e-6)
    assert row["first_contact_resolution"] == pytest.approx(6 / 7, abs=1e-6)
    assert (row["reasoned_repeats"], row["same_reason_repeats"], row["same_reason_share"]) == (
        1, 1, 1.0,
    )  # fmt: skip
    assert row["near_rotation"] == 1


def test_the_days_each_count_lands_on(customers_db: Client) -> None:
    # A's visit leaked on March 1st, its call came after the web on March 2nd.
    found = customers_db.query(
        "SELECT day, sum(leaked), sum(after_digital) FROM rollup_customers_daily "
        "WHERE day IN ('2021-03-01', '2021-03-02') GROUP BY day ORDER BY day"
    ).result_rows
    assert [(str(d), int(x), int(y)) for d, x, y in found] == [
        ("2021-03-01", 1, 0),
        ("2021-03-02", 0, 1),
    ]


def test_filters_and_a_shorter_window_for_the_error_bar(customers_db: Client) -> None:
    retail = run(customers_db, "leakage_rate", **YEAR, **(ALL | {"industry": "retail"}),
                 leakage_window_h=24)  # fmt: skip
    assert retail == []
    # the rotation began at 11:00 and D's call is that hour: inside any window
    (row,) = run(customers_db, "leakage_rate", **YEAR, **ALL, leakage_window_h=0)
    assert row["near_rotation"] == 1
    before = {"start": "2021-01-01 00:00:00", "end": "2021-06-01 00:00:00"}
    (early,) = run(customers_db, "leakage_rate", **before, **ALL, leakage_window_h=24)
    assert (early["web_visits"], early["near_rotation"]) == (3, 0)
