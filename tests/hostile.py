"""Records a hostile or careless producer can put on the source topic, one of each class.

Shared by the worker-level integration test and the unit tests of the pure decision: each is a
Kafka value (and sometimes headers) that bypasses the publisher. None of them may stop
ingestion; every one must become a dead letter with a reason, except those marked ``valid``:
events the contract accepts however hostile they look (an unknown field is tolerated, whatever
it holds), which must be counted like any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# The broker's default message.max.bytes is 1,048,588; leave room for the batch overhead.
NEAR_BROKER_MAX = 1_040_000

VALID: dict[str, Any] = {
    "event_id": "hostile-0",
    "schema_version": 1,
    "kind": "touch",
    "occurred_at": "2021-03-01T10:00:00Z",
    "tenant": "acme",
    "industry": "retail",
    "use_case": "smart_notification",
    "channel": "web",
    "journey_id": "hostile-journey",
    "customer_id": "ph:k1:" + "cd" * 16,
    "direction": "inbound",
}


@dataclass(frozen=True)
class Hostile:
    """One class of hostile record: a name, the value, optional headers."""

    name: str
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    valid: bool = False  # the contract accepts it: counted, not a dead letter


def _event(i: int, **changes: Any) -> dict[str, Any]:
    return VALID | {"event_id": f"hostile-{i}", "journey_id": f"hostile-journey-{i}"} | changes


def _padded(i: int, size: int) -> bytes:
    """A valid-looking event padded with an unknown field to ``size`` bytes."""
    head = json.dumps(_event(i) | {"pad": ""}).encode()
    return head[:-2] + b"x" * (size - len(head)) + b'"}'


def hostile_records() -> list[Hostile]:
    """One record of every class that once stopped ingestion, or could."""
    digits = "9" * 5000
    return [
        Hostile("about_900_kb", _padded(1, 900_000)),
        Hostile("near_broker_max", _padded(2, NEAR_BROKER_MAX)),
        Hostile(
            "schema_version_of_5000_digits",
            json.dumps(_event(3))
            .encode()
            .replace(b'"schema_version": 1', b'"schema_version": ' + digits.encode()),
        ),
        Hostile(
            "unknown_field_of_10000_digits",
            json.dumps(_event(4)).encode()[:-1] + b', "n": ' + b"1" * 10_000 + b"}",
            valid=True,  # JSON, within the size limit; the unknown field is dropped
        ),
        Hostile(
            "huge_exponent",
            json.dumps(
                _event(5, kind="ivr_call", channel="phone", outcome="self_served", duration_s=7)
            )
            .encode()
            .replace(b'"duration_s": 7', b'"duration_s": 1e999999'),
        ),
        Hostile("deep_nesting", b"[" * 200_000),
        Hostile(
            "deep_nesting_inside_an_event",
            json.dumps(_event(6)).encode()[:-1]
            + b', "deep": '
            + b'{"a":' * 3000
            + b"1"
            + b"}" * 3000
            + b"}",
        ),
        Hostile("invalid_utf8", json.dumps(_event(7)).encode()[:-3] + b'\xc3\x28\xff"}'),
        Hostile("lone_surrogate", json.dumps(_event(8)).encode().replace(b'"acme"', b'"\\ud800"')),
        Hostile("nul_bytes", b"\x00" * 64),
        Hostile("empty", b""),
        Hostile("tombstone", None),
        Hostile("byte_order_mark", b"\xef\xbb\xbf" + json.dumps(_event(9)).encode()),
        Hostile(
            "nan_duration",
            json.dumps(
                _event(
                    10,
                    kind="ivr_call",
                    channel="phone",
                    outcome="self_served",
                    duration_s=float("nan"),
                )
            ).encode(),
        ),
        Hostile("trailing_newline_tenant", json.dumps(_event(11, tenant="acme\n")).encode()),
        Hostile("not_an_object", b"[1, 2, 3]"),
        Hostile(
            "huge_headers",
            json.dumps(_event(12, schema_version="1")).encode(),
            headers=[("h", b"y" * 200_000)],
        ),
    ]
