"""IVR escape, bot containment, delivery and two-way messaging: the named queries and analyst
views over contract 1.1's fields, on events whose answers are worked out by hand, written the
worker's way."""

from __future__ import annotations

from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from tests.fixture_events import ev, load_fixture
from tests.integration.test_named_queries import run
from tests.support import fresh_database

pytestmark = pytest.mark.integration

Y2022 = {"start": "2022-01-01 00:00:00", "end": "2023-01-01 00:00:00"}
Y2023 = {"start": "2023-01-01 00:00:00", "end": "2024-01-01 00:00:00"}
Y2024 = {"start": "2024-01-01 00:00:00", "end": "2025-01-01 00:00:00"}
ANY = {"tenant": "", "industry": "", "use_case": ""}


def call(n: int, outcome: str, **fields: Any) -> dict[str, Any]:
    return ev(
        n, f"c{n}", "telecom", "digital_customer_service", "phone", "2022-04-01T10:00:00Z",
        kind="ivr_call", direction="inbound", duration_s=60.0, outcome=outcome, **fields,
    )  # fmt: skip


def bot(n: int, handed_off: bool, **fields: Any) -> dict[str, Any]:
    return ev(
        n, f"b{n}", "retail", "digital_customer_service", "chat", "2022-05-01T10:00:00Z",
        kind="chatbot_session", direction="inbound", handed_off=handed_off, **fields,
    )  # fmt: skip


def message(
    n: int, channel: str, of: int | None = None, at: str = "2022-06-01T10:00:00Z", **fields: Any
) -> dict[str, Any]:
    """A send (``n``), or a receipt about send ``of``, in the send's journey."""
    kind = "message_receipt" if "status" in fields else "message_sent"
    sent = of or n
    return ev(
        n, f"m{sent}", "retail", "smart_notification", channel, at, kind=kind,
        message_id=f"msg-{sent}", **fields,
    )  # fmt: skip


def answer(n: int, of: int, channel: str, at: str) -> dict[str, Any]:
    """The customer's own message answering send ``of`` (contract 1.1)."""
    return ev(
        n, f"m{of}", "retail", "smart_notification", channel, at, kind="message_received",
        direction="inbound", message_id=f"in-{n}", in_reply_to=f"msg-{of}",
    )  # fmt: skip


SENT_2023 = "2023-02-01T10:00:00Z"


def said(n: int, thread: str, channel: str, at: str, brand: bool = False) -> dict[str, Any]:
    """A message in conversation ``thread`` (journey ``s-thread``): the customer's, or the
    brand's reply (an outbound touch)."""
    common = (n, f"s-{thread}", "retail", "digital_customer_service", channel, at)
    if brand:
        return ev(*common, conversation_id=thread)
    return ev(
        *common, kind="message_received", direction="inbound", message_id=f"post-{n}",
        conversation_id=thread,
    )  # fmt: skip


EVENTS: list[dict[str, Any] | bytes] = [
    # IVR: 5 calls; 3 asked for an agent; of those, 1 was transferred: 2 trapped.
    call(1, "self_served"),
    call(2, "transferred_to_agent", agent_requested=True),
    call(3, "abandoned", agent_requested=True, exit_reason="hung_up"),
    call(4, "self_served", agent_requested=True, exit_reason="retries_exhausted"),
    call(5, "abandoned", agent_requested=False),  # said no: the same as a 1.0 call
    # Chatbot: 4 sessions; 2 resolved without a hand-off (contained); 2 asked for a person,
    # 1 was handed off: 1 denied.
    bot(6, False, resolved=True),
    bot(7, False, resolved=True, handoff_requested=False),
    bot(8, True, handoff_requested=True),
    bot(9, False, handoff_requested=True),
    # Messaging: 4 sends by SMS, 1 by messaging app; 2 delivered, 1 failed (30003), 1
    # undelivered (30005), the messaging send failed with no code.
    *(message(n, "sms", purpose="delivery") for n in (10, 11, 12, 13)),
    message(14, "messaging", purpose="payment"),
    message(15, "sms", of=10, status="delivered"),
    message(16, "sms", of=11, status="delivered"),
    message(17, "sms", of=12, status="failed", error_code="30003"),
    message(18, "sms", of=13, status="undelivered", error_code="30005"),
    message(19, "messaging", of=14, status="failed"),
    # Two-way, in 2023: 3 SMS sends, 2 reply-enabled (20, 21), and 1 by messaging app (23),
    # reply-enabled. 20 is answered by the customer's message after 120 s; a reply-proxy
    # receipt 300 s after it arrives first and is corrected. 22 (not reply-enabled) is replied
    # to after 60 s, 23 after 30 s; 21 gets no answer.
    *(
        message(n, channel, at=SENT_2023, purpose="payment", reply_enabled=enabled)
        for n, channel, enabled in (
            (20, "sms", True),
            (21, "sms", True),
            (22, "sms", False),
            (23, "messaging", True),
        )
    ),
    message(
        24, "sms", of=20, at="2023-02-01T10:05:00Z", status="replied", read_signal="reply_proxy"
    ),
    answer(25, 20, "sms", "2023-02-01T10:02:00Z"),
    message(
        26, "sms", of=22, at="2023-02-01T10:01:00Z", status="replied", read_signal="reply_proxy"
    ),
    answer(27, 23, "messaging", "2023-02-01T10:00:30Z"),
    # Conversations, in 2024. a: answered after 30 min. b: answered after 26 h. c: the brand's
    # reply at 09:00 comes before the customer's message at 10:00 (not an answer), until the
    # customer's earlier message at 08:30 arrives: it opens the conversation, and 09:00 is its
    # first response (30 min). d, by chat: never answered.
    said(30, "a", "social", "2024-03-01T10:00:00Z"),
    said(31, "a", "social", "2024-03-01T10:30:00Z", brand=True),
    said(32, "a", "social", "2024-03-01T10:45:00Z", brand=True),
    said(33, "b", "social", "2024-03-01T10:00:00Z"),
    said(34, "b", "social", "2024-03-02T12:00:00Z", brand=True),
    said(35, "c", "social", "2024-03-01T10:00:00Z"),
    said(36, "c", "social", "2024-03-01T09:00:00Z", brand=True),
    said(37, "c", "social", "2024-03-01T08:30:00Z"),
    said(38, "d", "chat", "2024-03-01T10:00:00Z"),
]


@pytest.fixture(scope="module")
def client(services: dict[str, Any]) -> Client:
    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    connection = connect(url)
    load_fixture(connection, EVENTS)
    return connection


def test_ivr_escape_counts_callers_who_asked_and_those_left_trapped(client: Client) -> None:
    (row,) = run(client, "ivr_escape", **Y2022, **ANY)
    assert row == (2022, 5, 3, 0.6, 2, 0.4, 0.666667)
    assert not run(client, "ivr_escape", **Y2022, **(ANY | {"industry": "retail"}))
    view = client.query(
        "SELECT call_count, agent_requested_count, trapped_count, trapped_share"
        " FROM ivr_escape_yearly"
    ).result_rows
    assert view == [(5, 3, 2, 0.4)]


def test_bot_containment_and_hand_offs_denied(client: Client) -> None:
    (row,) = run(client, "bot_containment", **Y2022, **ANY, channel="")
    assert row == (2022, 4, 2, 0.5, 2, 1, 0.5)
    assert not run(client, "bot_containment", **Y2022, **ANY, channel="web")
    view = client.query(
        "SELECT session_count, contained_count, denied_handoff_rate FROM bot_containment_yearly"
    ).result_rows
    assert view == [(4, 2, 0.5)]


def test_delivery_rate_and_failures_by_error_code(client: Client) -> None:
    rates = run(client, "delivery_rate", **Y2022, **ANY, channel="")
    assert rates == [(2022, "messaging", 1, 0, 1, 0, 0.0), (2022, "sms", 4, 2, 1, 1, 0.5)]
    failures = run(client, "delivery_failures", **Y2022, **ANY, channel="")
    assert failures == [
        (2022, "failed", "", 1, 0.333333),
        (2022, "failed", "30003", 1, 0.333333),
        (2022, "undelivered", "30005", 1, 0.333333),
    ]
    assert run(client, "delivery_failures", **Y2022, **ANY, channel="messaging") == [
        (2022, "failed", "", 1, 1.0)
    ]
    view = client.query(
        "SELECT channel, send_count, delivered_count, failed_count, undelivered_count,"
        " delivery_rate FROM delivery_yearly WHERE year = 2022 ORDER BY channel"
    ).result_rows
    assert view == [("messaging", 1, 0, 1, 0, 0.0), ("sms", 4, 2, 1, 1, 0.5)]


def test_two_way_messaging_counts_replies_to_reply_enabled_sends(client: Client) -> None:
    rows = run(client, "two_way_messaging", **Y2023, **ANY, channel="")
    assert rows == [
        (2023, "messaging", 1, 1, 1.0, 1, 1.0, 30.0),
        (2023, "sms", 3, 2, 0.666667, 1, 0.5, 120.0),
    ]
    # Every reply, reply-enabled or not, the customer's own message included.
    replied = run(client, "replied_sends_by_purpose", **Y2023, **ANY, channel="")
    assert replied == [(2023, "payment", 4, 3, 0.75, 70.0)]


def test_first_response_to_conversations_by_time_not_arrival(client: Client) -> None:
    rows = run(client, "social_first_response", **Y2024, **ANY, channel="")
    assert rows == [
        (2024, "chat", 1, 0.0, 0.0, 0.0, 1.0, None),
        (2024, "social", 3, 0.666667, 0.666667, 0.333333, 0.0, 32400.0),
    ]


def test_report_cells_of_contract_1_1(client: Client) -> None:
    """The cells the Report measures 1.1's figures on, worked out from EVENTS by hand."""
    params = {"tenant": ""}
    calls = run(client, "report_call_cells", **Y2022, **params)
    assert calls == [(2022, "telecom", "ivr_call", 5, 300_000, 3, 2)]
    bots = run(client, "report_chatbot_cells", **Y2022, **params)
    assert bots == [(2022, "retail", 4, 1, 2, 2, 1)]
    # year, industry, channel, sends, reply-enabled, not, delivered, failed, undelivered
    assert run(client, "report_message_cells", **Y2022, **params) == [
        (2022, "retail", "messaging", 1, 0, 1, 0, 1, 0),
        (2022, "retail", "sms", 4, 0, 4, 2, 1, 1),
    ]
    assert run(client, "report_message_cells", **Y2023, **params) == [
        (2023, "retail", "messaging", 1, 1, 0, 0, 0, 0),
        (2023, "retail", "sms", 3, 2, 1, 0, 0, 0),
    ]
    # conversations, answered, within 1 h, within 24 h, waited a day or more
    assert run(client, "report_conversation_cells", **Y2024, **params) == [
        (2024, "retail", "chat", 1, 0, 0, 0, 1),
        (2024, "retail", "social", 3, 3, 2, 2, 1),
    ]


def test_coverage_of_contract_1_1_fields(client: Client) -> None:
    """Which events carry the 1.1 fields a figure rests on: 2022's IVR calls 1 and 5 carry
    none (5 says agent_requested false, which reads the same as absent), sessions 6-9 each
    carry one; failure 19 has no error code. 2024: the five customers' messages are in
    conversations and give no reason."""
    (y2022,) = run(client, "contract_1_1_coverage", **Y2022, **ANY, channel="")
    assert y2022 == (2022, 5, 0.6, 4, 1.0, 3, 0.666667, 0, None, 9, 0.0)
    (y2024,) = run(client, "contract_1_1_coverage", **Y2024, **ANY, channel="")
    assert y2024 == (2024, 0, None, 0, None, 0, None, 5, 1.0, 5, 0.0)
