"""Contract 1.1: what it adds, that every 1.0 event still reads the same, and the rules of the
fields it adds (each with the reason and field a producer sees)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streams.decoder import EVENT_FIELD_NAMES, decode, to_json
from streams.events import CONTRACT_VERSION, KIND_SPECIFIC_FIELDS, ContractError
from streams.logic.facts import event_columns
from tests.fixture_events import FIXTURE

CUSTOMER = "ph:k1:" + "ab" * 16


def event(kind: str, channel: str, direction: str, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": "e-1",
        "schema_version": 1,
        "kind": kind,
        "occurred_at": "2022-03-01T10:00:00.000Z",
        "tenant": "acme",
        "industry": "telecom",
        "use_case": "digital_customer_service",
        "channel": channel,
        "journey_id": "j-1",
        "customer_id": CUSTOMER,
        "direction": direction,
    } | fields


def accepted(doc: dict[str, Any]) -> Any:
    decoded, _ = decode(json.dumps(doc).encode())
    return decoded


def rejected(doc: dict[str, Any]) -> ContractError:
    with pytest.raises(ContractError) as caught:
        decode(json.dumps(doc).encode())
    return caught.value


def test_the_version_is_1_1_and_producers_still_write_schema_version_1() -> None:
    assert CONTRACT_VERSION == "1.1"
    assert accepted(event("touch", "email", "outbound")).schema_version == 1
    assert "newer than this reader" in str(rejected(event("touch", "email", "outbound") | {
        "schema_version": 2}))  # fmt: skip


def test_every_1_0_event_reads_as_before_with_the_new_fields_absent() -> None:
    added = {s.name for s in KIND_SPECIFIC_FIELDS if s.since == "1.1"}  # new columns
    for raw in FIXTURE:
        if isinstance(raw, bytes):
            continue
        doc = json.loads(json.dumps(raw).replace("RECENT", "2022-03-01T10:00:00Z"))
        decoded = accepted(doc)
        assert all(getattr(decoded, name) is None for name in added), doc
        # The canonical form of a 1.0 event has no 1.1 field in it.
        assert not added & set(to_json(decoded, 0)) - set(doc)


NEW_EVENTS = {
    "two-way send": event(
        "message_sent", "sms", "outbound", message_id="m-1", purpose="payment", reply_enabled=True
    ),
    "inbound message": event(
        "message_received", "sms", "inbound", message_id="in-1", in_reply_to="m-1",
        contact_reason="billing",
    ),
    "social message": event(
        "message_received", "social", "inbound", message_id="post-9", conversation_id="thr-4"
    ),
    "brand reply on social": event("touch", "social", "outbound", conversation_id="thr-4"),
    "failed message": event(
        "message_receipt", "sms", "outbound", message_id="m-2", status="failed",
        error_code="30003",
    ),
    "undelivered message": event(
        "message_receipt", "messaging", "outbound", message_id="m-3", status="undelivered"
    ),
    "trapped caller": event(
        "ivr_call", "phone", "inbound", duration_s=312.0, outcome="abandoned",
        agent_requested=True, exit_reason="hung_up", contact_reason="outage",
    ),
    "contained chat": event(
        "chatbot_session", "chat", "inbound", handed_off=False, handoff_requested=False,
        resolved=True, duration_s=95.5, contact_reason="order-status",
    ),
    "inbound web visit with a reason": event("touch", "web", "inbound", contact_reason="billing"),
}  # fmt: skip


@pytest.mark.parametrize("name", NEW_EVENTS)
def test_what_1_1_adds_is_accepted_and_reaches_the_fact_columns(name: str) -> None:
    doc = NEW_EVENTS[name]
    decoded = accepted(doc)
    columns = event_columns([decoded])
    for field, value in doc.items():
        if field in columns and field != "customer_id":
            assert columns[field] == [value], field
    assert set(columns) <= set(EVENT_FIELD_NAMES)


RULES = [
    (
        event("message_receipt", "sms", "outbound", message_id="m", status="delivered",
              error_code="30003"),
        "error_code", "a message_receipt whose status is 'delivered' carries no error_code",
    ),
    (
        event("message_receipt", "sms", "outbound", message_id="m", status="failed",
              read_signal="read_receipt"),
        "read_signal", "a message_receipt whose status is 'failed' carries no read_signal",
    ),
    (
        event("message_receipt", "sms", "outbound", message_id="m", status="clicked"),
        "read_signal", "is required when status is clicked",
    ),
    (
        event("touch", "email", "outbound", conversation_id="c-1"),
        "conversation_id", "a touch whose channel is 'email' carries no conversation_id",
    ),
    (
        event("touch", "web", "outbound", contact_reason="billing"),
        "contact_reason", "a touch whose direction is 'outbound' carries no contact_reason",
    ),
    (
        event("message_received", "sms", "outbound", message_id="m"),
        "direction", "a message_received is inbound",
    ),
    (
        event("message_received", "email", "inbound", message_id="m"),
        "channel", "'email' cannot carry a message_received",
    ),
    (
        event("message_received", "sms", "inbound"),
        "message_id", "is missing (required for kind message_received)",
    ),
    (
        event("message_received", "sms", "inbound", message_id="m", in_reply_to="m 1"),
        "in_reply_to", "does not match",
    ),
    (
        event("ivr_call", "phone", "inbound", duration_s=1.0, outcome="abandoned",
              exit_reason="gave_up"),
        "exit_reason", "'gave_up' is not one of completed",
    ),
    (
        event("chatbot_session", "chat", "inbound", handed_off=True, resolved="yes"),
        "resolved", "must be true or false",
    ),
    (
        event("message_received", "chat", "inbound", message_id="m", contact_reason="Billing"),
        "contact_reason", "does not match",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("doc", "field", "reason"), RULES, ids=[r[2][:40] for r in RULES])
def test_the_rules_of_the_new_fields_say_what_is_wrong_and_where(
    doc: dict[str, Any], field: str, reason: str
) -> None:
    error = rejected(doc)
    assert error.field == field and reason in str(error), str(error)
