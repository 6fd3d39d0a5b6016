"""The published JSON Schema, the worker's decoder and the reference checks accept exactly the
same documents.

Three judges of one document: the JSON Schema (``interaction.schema.json``) as a JSON Schema
validator reads it, with its own regular expressions (ECMA-262, through ``regress``: Python's
``$`` would let a trailing newline through) and with ``format`` asserted (``date-time``); the
compiled decoder the worker and the publisher use (``streams.decoder.decode``); and the
reference checks that explain a rejection (``streams.decoder.explain``). Documents come from the
schema itself (:func:`from_schema`, which reads the JSON Schema's keywords: hypothesis-jsonschema
does not run on the current Hypothesis), from valid events with one field changed the ways
producers get them wrong, and from random documents near the contract. The two rules no static
schema can state are left out: the future bound (no bound is given) and nesting deeper than
``MAX_NESTING`` (never generated).

Before the decoder, the two disagreed on whole classes: ``"schema_version": 1.0`` (an integer
to JSON Schema, rejected by the worker), ``"read_signal": null`` on a read receipt, a delivery
receipt carrying a read signal, and any time the worker read with ``datetime.fromisoformat``
that RFC 3339 does not allow (a space for the ``T``, week dates, no seconds).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import regress
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.decoder import decode, explain
from streams.events import ContractError, json_schema, python_pattern


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and regress.Regex(pattern).find(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


SCHEMA = json_schema()
Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _ecma_pattern}
)
SCHEMA_JUDGE = Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def verdicts(doc: Any) -> tuple[bool, bool, bool]:
    """(schema, decoder, reference): does each accept ``doc``?"""
    by_schema = SCHEMA_JUDGE.is_valid(doc)
    try:
        decode(json.dumps(doc).encode())
        by_decoder = True
    except ContractError:
        by_decoder = False
    by_reference = explain(doc) is None
    return by_schema, by_decoder, by_reference


def assert_agree(doc: Any) -> None:
    schema, decoder, reference = verdicts(doc)
    assert schema == decoder == reference, (
        f"schema {schema}, decoder {decoder}, reference {reference}: {json.dumps(doc)[:400]}"
    )


def test_the_date_time_format_is_asserted() -> None:
    # Without a format checker (rfc3339-validator), JSON Schema would accept any string.
    assert SCHEMA_JUDGE.is_valid(VALID)
    assert not SCHEMA_JUDGE.is_valid(VALID | {"occurred_at": "2021-02-30T00:00:00Z"})


VALID: dict[str, Any] = {
    "event_id": "e-1",
    "schema_version": 1,
    "kind": "message_receipt",
    "occurred_at": "2021-06-01T09:30:00.250Z",
    "tenant": "acme",
    "industry": "retail",
    "use_case": "smart_notification",
    "channel": "sms",
    "journey_id": "j-1",
    "customer_id": "ph:k1:" + "0123456789abcdef" * 2,
    "direction": "outbound",
    "message_id": "m-1",
    "status": "read",
    "read_signal": "read_receipt",
}

# What producers get wrong, field by field: every value here is one judge's edge.
EDGES: dict[str, list[Any]] = {
    "schema_version": [1, 1.0, 2, 2.0, 0, 1.5, "1", True, None, -1, 10**30],
    "occurred_at": [
        "2021-06-01T09:30:00Z",
        "2021-06-01T09:30:00.1Z",
        "2021-06-01T09:30:00.123456789Z",
        "2021-06-01T09:30:00.1234567891Z",
        "2021-06-01T09:30:00+02:00",
        "2021-06-01T09:30:00-00:00",
        "2021-06-01T09:30:00+0200",
        "2021-06-01T09:30:00",
        "2021-06-01 09:30:00Z",
        "2021-06-01t09:30:00z",
        "2021-06-01T09:30Z",
        "2021-W22-2T09:30:00Z",
        "20210601T093000Z",
        "2021-02-29T09:30:00Z",
        "2024-02-29T09:30:00Z",
        "2021-04-31T09:30:00Z",
        "2021-06-01T24:00:00Z",
        "2021-06-01T23:59:60Z",
        "1999-12-31T23:59:59Z",
        "2021-06-01T09:30:00Z\n",
        "\uff12\uff10\uff12\uff11-06-01T09:30:00Z",  # full-width digits: \\d in Python
        1622539800,
        None,
    ],
    "tenant": ["acme", "a", "Acme", "acme\n", "acme ", "a" * 64, "a" * 65, "-acme", "", 7],
    "event_id": ["e", "e\n", "e 1", "é", "x" * 128, "x" * 129, "", "\x7f", 1],
    "journey_id": ["j", "j\t", "{j}", ""],
    "customer_id": [
        "ph:k1:" + "ab" * 16,
        "ph:k1:" + "AB" * 16,
        "ph:k1:" + "ab" * 16 + "\n",
        "alice@example.com",
        "ph:" + "k" * 17 + ":" + "ab" * 16,
        4915112345678,
    ],
    "channel": ["sms", "messaging", "email", "fax", None],
    "direction": ["outbound", "inbound"],
    "kind": ["message_receipt", "message_sent", "touch", "message_received", "fax", None],
    "status": ["read", "delivered", "clicked", "failed", "undelivered", "bounced", None],
    # contract 1.1's fields: allowed on some kinds, some values, some channels only
    "error_code": ["30003", "1-ABC", "", "a b", 30003, None],
    "conversation_id": ["c-1", "", "c 1", None],
    "contact_reason": ["billing", "Billing", "", None],
    "in_reply_to": ["m-0", "", None],
    "reply_enabled": [True, False, "yes", 1, None],
    "read_signal": ["read_receipt", "click_proxy", None, "", "proxy"],
    "message_id": ["m", "m\n", "", None],
    "industry": ["retail", "Retail", ""],
    "extra": [None, {"nested": [1, 2, {"a": None}]}, "anything", 10**30],
}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(
        st.sampled_from(sorted(EDGES)),
        st.integers(0, 100),
        min_size=1,
        max_size=3,
    )
)
def test_valid_events_changed_the_ways_producers_get_them_wrong(changes: dict[str, int]) -> None:
    doc = dict(VALID)
    for field, pick in changes.items():
        value = EDGES[field][pick % len(EDGES[field])]
        if value is None and field != "extra":
            doc.pop(field, None)  # absent
            if pick % 2:
                doc[field] = None  # or null
        else:
            doc[field] = value
    assert_agree(doc)


# ---- documents read off the schema --------------------------------------------------------
KNOWN = {
    "description", "type", "enum", "const", "pattern", "minLength", "maxLength", "minimum",
    "maximum", "format", "title", "properties", "required", "oneOf", "allOf", "if", "then",
    "else", "additionalProperties", "$schema", "$id",
}  # fmt: skip


def _keywords(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    found = set(node)
    for key, value in node.items():
        if key == "properties":
            for sub in value.values():
                found |= _keywords(sub)
        elif isinstance(value, dict):
            found |= _keywords(value)
        elif isinstance(value, list):
            for item in value:
                found |= _keywords(item)
    return found


def test_the_generator_reads_every_keyword_the_schema_uses() -> None:
    assert _keywords(SCHEMA) <= KNOWN, _keywords(SCHEMA) - KNOWN


def _rfc3339() -> st.SearchStrategy[str]:
    """date-time values: RFC 3339, any offset, 0 to 9 digits of fraction, years 2000-9999."""
    fraction = st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,9}", fullmatch=True))
    offset = st.one_of(
        st.just("Z"), st.from_regex(r"[+-]([01][0-9]|2[0-3]):[0-5][0-9]", fullmatch=True)
    )
    moment = st.datetimes(
        min_value=__import__("datetime").datetime(2000, 1, 2),
        max_value=__import__("datetime").datetime(9999, 12, 30),
    )
    return st.tuples(moment, fraction, offset).map(
        lambda t: t[0].strftime("%Y-%m-%dT%H:%M:%S") + t[1] + t[2]
    )


def _value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the keywords of one property schema allow (merged with its branch's)."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema.get("type", "string")
    options = []
    for kind in types if isinstance(types, list) else [types]:
        if kind == "null":
            options.append(st.none())
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind in ("integer", "number"):
            low, high = schema.get("minimum", -(10**6)), schema.get("maximum", 10**6)
            ints = st.integers(int(low), int(high))
            options.append(ints if kind == "integer" else st.one_of(ints, st.floats(low, high)))
        elif schema.get("format") == "date-time":
            options.append(_rfc3339())
        elif "pattern" in schema:
            options.append(st.from_regex(python_pattern(schema["pattern"]), fullmatch=True))
        else:
            options.append(st.text(min_size=schema.get("minLength", 0), max_size=12))
    return st.one_of(options)


@st.composite
def from_schema(draw: Any, schema: dict[str, Any] = SCHEMA) -> dict[str, Any]:
    """An object as the schema describes it: a ``oneOf`` branch, its properties over the
    common ones, the optional ones present or not, each of its ``allOf`` rules
    (``if``/``then``/``else``) followed or not (either way is a document worth judging), an
    unknown field now and then."""
    branch = draw(st.sampled_from(schema["oneOf"]))
    properties = dict(schema["properties"])
    for name, sub in branch["properties"].items():
        properties[name] = {**properties.get(name, {}), **sub}
    required = set(schema["required"]) | set(branch["required"])
    doc: dict[str, Any] = {}
    for name, sub in properties.items():
        if name in required or draw(st.booleans()):
            doc[name] = draw(_value(sub))
    for conditional in branch.get("allOf", []):
        if not draw(st.integers(0, 3)):  # mostly as the schema says
            continue
        condition = conditional["if"]["properties"]
        holds = all(doc.get(k) in v["enum"] for k, v in condition.items())
        rule = conditional["then"] if holds else conditional["else"]
        for name in rule.get("required", []):
            doc.setdefault(name, draw(_value(properties[name] | rule["properties"][name])))
        for name, sub in rule.get("properties", {}).items():
            if name in doc:
                doc[name] = draw(_value(properties[name] | sub))
    if draw(st.integers(0, 4)) == 0:
        doc["campaign"] = draw(st.one_of(st.text(max_size=5), st.integers(), st.none()))
    return doc


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=from_schema())
def test_documents_the_schema_generates(doc: Any) -> None:
    assert_agree(doc)


def test_the_schema_generates_mostly_valid_documents() -> None:
    """The generator is worth its name: most of what it makes, every judge accepts."""
    from hypothesis import find

    found = find(from_schema(), lambda d: all(verdicts(d)) and d["kind"] == "message_receipt")
    assert found["kind"] == "message_receipt"


@settings(max_examples=200, deadline=None)
@given(
    doc=st.fixed_dictionaries(
        {
            "event_id": st.text(max_size=4),
            "schema_version": st.one_of(st.integers(0, 2), st.floats(0, 2)),
            "kind": st.sampled_from(["touch", "ivr_call", "chatbot_session", "message_sent"]),
            "occurred_at": st.datetimes().map(lambda d: d.isoformat() + "Z"),
            "tenant": st.from_regex(r"[a-z0-9_\-A-Z ]{1,5}", fullmatch=True),
            "industry": st.just("retail"),
            "use_case": st.just("smart_notification"),
            "channel": st.sampled_from(["phone", "chat", "web"]),
            "journey_id": st.text(min_size=1, max_size=3),
            "customer_id": st.just("ph:k1:" + "ab" * 16),
            "direction": st.sampled_from(["inbound", "outbound"]),
            "duration_s": st.one_of(st.floats(allow_nan=False), st.integers()),
            "outcome": st.sampled_from(["self_served", "abandoned", "x"]),
            "handed_off": st.one_of(st.booleans(), st.integers(0, 1)),
        }
    )
)
def test_random_documents_near_the_contract(doc: dict[str, Any]) -> None:
    assert_agree(doc)
