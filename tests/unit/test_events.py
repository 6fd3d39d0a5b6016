"""The event contract: what is accepted, what is rejected, and the reason given."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from streams.decoder import decode, to_json, validate
from streams.events import ContractError, raw_columns

CUSTOMER = "ph:k1:" + "0123456789abcdef" * 2


def base(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "e-1",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": "2021-06-01T09:30:00.250Z",
        "tenant": "acme",
        "industry": "retail",
        "use_case": "smart_notification",
        "channel": "email",
        "journey_id": "j-1",
        "customer_id": CUSTOMER,
        "direction": "outbound",
    }
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


def rejects(event: Any, field: str | None, fragment: str) -> None:
    with pytest.raises(ContractError) as caught:
        validate(event)
    assert caught.value.field == field, caught.value
    assert fragment in caught.value.reason, caught.value.reason


def test_a_touch_is_accepted_and_normalised_to_utc_milliseconds() -> None:
    event, ms = validate(base(occurred_at="2021-06-01T11:30:00.250999+02:00"))
    assert ms == round(datetime(2021, 6, 1, 9, 30, 0, 250000, tzinfo=UTC).timestamp() * 1000)
    assert to_json(event, ms)["occurred_at"] == "2021-06-01T09:30:00.250Z"


@pytest.mark.parametrize(
    "extra",
    [
        {
            "kind": "ivr_call",
            "channel": "phone",
            "direction": "inbound",
            "duration_s": 35,
            "outcome": "self_served",
        },
        {
            "kind": "notification_call",
            "channel": "phone",
            "duration_s": 45.5,
            "purpose": "delivery",
        },
        {"kind": "message_sent", "channel": "sms", "message_id": "m-1", "purpose": "appointment"},
        {
            "kind": "message_receipt",
            "channel": "messaging",
            "message_id": "m-1",
            "status": "read",
            "read_signal": "read_receipt",
        },
        {"kind": "message_receipt", "channel": "sms", "message_id": "m-1", "status": "delivered"},
        {"kind": "chatbot_session", "channel": "chat", "direction": "inbound", "handed_off": True},
    ],
)
def test_every_kind_is_accepted(extra: dict[str, Any]) -> None:
    event, ms = validate(base(**extra))
    assert event.kind == extra["kind"]
    assert validate(to_json(event, ms)) == (event, ms)  # canonical form round-trips


def test_unknown_extra_fields_are_tolerated() -> None:
    assert validate(base(campaign="spring", nested={"a": 1}))[0].event_id == "e-1"


def test_newer_schema_version_is_rejected_with_a_clear_reason() -> None:
    rejects(base(schema_version=2), "schema_version", "newer than this reader understands")


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"tenant": None}, "tenant", "is missing"),
        ({"channel": "pigeon"}, "channel", "is not one of"),
        ({"schema_version": "1"}, "schema_version", "must be an integer"),
        ({"schema_version": True}, "schema_version", "must be an integer"),
        ({"occurred_at": "2021-06-01T09:30:00"}, "occurred_at", "no UTC offset"),
        ({"occurred_at": "yesterday"}, "occurred_at", "not an RFC 3339 time"),
        ({"occurred_at": "2021-06-01 09:30:00Z"}, "occurred_at", "not an RFC 3339 time"),
        ({"occurred_at": "2021-02-29T09:30:00Z"}, "occurred_at", "is not a date"),
        ({"occurred_at": 1622539800}, "occurred_at", "must be an RFC 3339 string"),
        ({"schema_version": 1.5}, "schema_version", "must be an integer"),
        ({"occurred_at": "1999-12-31T23:59:59Z"}, "occurred_at", "before 2000"),
        ({"customer_id": "alice@example.com"}, "customer_id", "is not a pseudonym"),
        ({"tenant": "Acme Corp"}, "tenant", "does not match"),
        ({"event_id": ""}, "event_id", "1 to 128 characters"),
        ({"event_id": "x" * 129}, "event_id", "1 to 128 characters"),
        (
            {
                "kind": "ivr_call",
                "channel": "phone",
                "direction": "inbound",
                "outcome": "self_served",
            },
            "duration_s",
            "is missing (required for kind ivr_call)",
        ),
        (
            {
                "kind": "ivr_call",
                "channel": "email",
                "direction": "inbound",
                "duration_s": 1,
                "outcome": "self_served",
            },
            "channel",
            "cannot carry a ivr_call",
        ),
        (
            {
                "kind": "ivr_call",
                "channel": "phone",
                "direction": "outbound",
                "duration_s": 1,
                "outcome": "self_served",
            },
            "direction",
            "a ivr_call is inbound",
        ),
        (
            {
                "kind": "ivr_call",
                "channel": "phone",
                "direction": "inbound",
                "duration_s": -1,
                "outcome": "self_served",
            },
            "duration_s",
            "below the minimum",
        ),
        (
            {
                "kind": "ivr_call",
                "channel": "phone",
                "direction": "inbound",
                "duration_s": float("nan"),
                "outcome": "self_served",
            },
            "duration_s",
            "finite",
        ),
        (
            {"kind": "message_receipt", "channel": "sms", "message_id": "m", "status": "read"},
            "read_signal",
            "is required when status is read",
        ),
        (
            {
                "kind": "message_receipt",
                "channel": "sms",
                "message_id": "m",
                "status": "delivered",
                "read_signal": "click_proxy",
            },
            "read_signal",
            "whose status is 'delivered' carries no read_signal",
        ),
        (
            {"kind": "chatbot_session", "channel": "chat", "handed_off": "yes"},
            "handed_off",
            "must be true or false",
        ),
    ],
)
def test_rejections_name_the_field_and_reason(
    overrides: dict[str, Any], field: str, fragment: str
) -> None:
    rejects(base(**overrides), field, fragment)


def test_not_an_object() -> None:
    rejects([1, 2], None, "an event is a JSON object")


def test_future_bound_is_the_callers() -> None:
    event = base(occurred_at="2030-01-01T00:00:00Z")
    assert validate(event)[1] == round(datetime(2030, 1, 1, tzinfo=UTC).timestamp() * 1000)
    with pytest.raises(ContractError, match="in the future"):
        validate(event, not_after_ms=round(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000))


def test_an_integral_float_is_an_integer_as_json_schema_says() -> None:
    event, _ = validate(base(schema_version=1.0))
    assert event.schema_version == 1


def test_decode_reports_encoding_json_size_and_nesting() -> None:
    with pytest.raises(ContractError, match="not UTF-8"):
        decode(b'{"a": "\xff"}')
    with pytest.raises(ContractError, match="not UTF-8"):  # in a field the contract ignores
        decode(json.dumps(base()).encode()[:-1] + b', "x": "\xff"}')
    with pytest.raises(ContractError, match="not JSON"):
        decode(b'{"a": ')
    with pytest.raises(ContractError, match="NaN is not a JSON value"):
        decode(json.dumps(base(x=float("nan"))).encode())
    with pytest.raises(ContractError, match="more than 16384"):
        decode(json.dumps(base(pad="x" * 20000)).encode())
    with pytest.raises(ContractError, match="nested more than 64 deep"):
        decode(b"[" * 5000 + b"]" * 5000)
    deep = base(x=json.loads("[" * 63 + "]" * 63))
    assert decode(json.dumps(deep).encode())[0].event_id == "e-1"  # 64 levels with the event
    with pytest.raises(ContractError, match="nested more than 64 deep"):
        decode(json.dumps(base(x=json.loads("[" * 64 + "]" * 64))).encode())
    assert decode(json.dumps(base()).encode())[0].event_id == "e-1"


def test_raw_columns_cover_every_field_once() -> None:
    names = [name for name, _ in raw_columns()]
    assert len(names) == len(set(names))
    assert {"event_id", "occurred_at", "duration_s", "read_signal", "handed_off"} <= set(names)


def _patterned_fields() -> list[tuple[str, str]]:
    from streams.events import COMMON_FIELDS, KIND_FIELDS

    specs = list(COMMON_FIELDS) + [s for kind in KIND_FIELDS.values() for s in kind]
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.pattern is not None:
            kind = next((k for k, fs in KIND_FIELDS.items() if spec in fs), "touch")
            seen.setdefault(spec.name, kind)
    return sorted(seen.items())


@pytest.mark.parametrize(("name", "kind"), _patterned_fields())
@pytest.mark.parametrize("ending", ["\n", "\r\n", " ", "\x00"])
def test_a_trailing_newline_or_space_is_rejected_in_every_id_and_slug(
    name: str, kind: str, ending: str
) -> None:
    base = {
        "event_id": "e1",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": "2021-01-01T00:00:00Z",
        "tenant": "acme",
        "industry": "retail",
        "use_case": "smart_notification",
        "channel": "sms",
        "journey_id": "j1",
        "customer_id": "ph:k1:" + "ab" * 16,
        "direction": "outbound",
    }
    base |= {
        "message_sent": {"kind": kind, "message_id": "m1", "purpose": "delivery"},
        # contract 1.1's patterned fields, each on an event that may carry it
        "touch": {"channel": "social", "direction": "inbound", "conversation_id": "c1",
                  "contact_reason": "billing"},
        "message_receipt": {"kind": kind, "message_id": "m1", "status": "failed",
                            "error_code": "30003"},
        "message_received": {"kind": kind, "direction": "inbound", "message_id": "m1",
                             "in_reply_to": "m0"},
    }.get(kind, {})  # fmt: skip
    validate(base)  # the event is valid as it is
    with pytest.raises(ContractError) as error:
        validate(base | {name: str(base[name]) + ending})
    assert error.value.field == name


def test_the_trailing_newline_test_covers_every_id_and_slug() -> None:
    names = {name for name, _ in _patterned_fields()}
    assert names == {
        "event_id", "journey_id", "tenant", "customer_id", "message_id", "occurred_at",
        "conversation_id", "contact_reason", "error_code", "in_reply_to",
    }  # fmt: skip


def test_a_pseudonym_with_a_trailing_newline_is_not_a_pseudonym() -> None:
    from streams.publish.pseudonymise import is_pseudonym

    assert is_pseudonym("ph:k1:" + "ab" * 16)
    assert not is_pseudonym("ph:k1:" + "ab" * 16 + "\n")
