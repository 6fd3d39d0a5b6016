"""A clear customer id never travels on: errors do not quote it, dead letters redact it."""

from __future__ import annotations

import json

import pytest

from streams.decoder import decode
from streams.events import ContractError
from streams.logic.ingest import SourceRecord, decide
from streams.logic.redact import redact

PSEUDONYM = "ph:k1:" + "ab" * 16
EVENT = {
    "schema_version": 1,
    "event_id": "e1",
    "kind": "touch",
    "occurred_at": "2021-01-01T00:00:00Z",
    "tenant": "acme_bank",
    "industry": "financial_services",
    "use_case": "personalized_onboarding",
    "channel": "email",
    "journey_id": "j1",
    "customer_id": "alice@brand.example",
    "direction": "outbound",
}


def test_the_contract_error_for_a_clear_id_does_not_quote_it() -> None:
    with pytest.raises(ContractError) as error:
        decode(json.dumps(EVENT).encode())
    assert error.value.field == "customer_id"
    assert "alice" not in str(error.value) and "not a pseudonym" in str(error.value)


@pytest.mark.parametrize(
    "value",
    [
        json.dumps(EVENT).encode(),
        json.dumps(EVENT).encode()[:-30],  # cut after the id
        json.dumps({**EVENT, "customer_id": 4915112345678}).encode(),
        json.dumps(EVENT).encode().replace(b'"e1"', b'"e\\u0031"') + b"\xff",  # not UTF-8
    ],
)
def test_a_rejected_record_keeps_its_bytes_but_not_a_clear_id(value: bytes) -> None:
    rejected = decide(SourceRecord("t", 0, 1, 1_600_000_000_000, value))
    assert not hasattr(rejected, "event")
    kept = rejected.record.value
    assert b"alice" not in kept and b"4915112345678" not in kept
    assert b"redacted:not-a-pseudonym" in kept and b'"journey_id"' in kept


def test_pseudonyms_and_records_without_a_customer_id_are_untouched() -> None:
    good = json.dumps({**EVENT, "customer_id": PSEUDONYM, "channel": "pigeon"}).encode()
    assert redact(good) == good


def test_a_key_rotation_mid_journey_breaks_neither_the_journey_nor_its_read_pairs() -> None:
    from streams.logic.aggregate import PartitionBatch, Rules, plan_flush
    from streams.logic.journey_state import MemoryStates
    from streams.publish.pseudonymise import Pseudonymiser

    old, new = Pseudonymiser(b"old-key", "k1"), Pseudonymiser(b"new-key", "k2")
    assert old("acme", "cust-1") != new("acme", "cust-1")  # the same customer, two pseudonyms
    base = {**EVENT, "tenant": "acme", "industry": "retail", "use_case": "smart_notification"}
    before = {**base, "customer_id": old("acme", "cust-1")}
    after = {**base, "customer_id": new("acme", "cust-1")}
    events = [
        {
            **before,
            "event_id": "e1",
            "kind": "message_sent",
            "channel": "sms",
            "message_id": "m1",
            "purpose": "delivery",
        },
        # The publishers switch keys here; the journey and the message carry on.
        {
            **after,
            "event_id": "e2",
            "kind": "message_receipt",
            "channel": "sms",
            "message_id": "m1",
            "status": "read",
            "read_signal": "read_receipt",
            "occurred_at": "2021-01-01T00:02:00Z",
        },
        {
            **after,
            "event_id": "e3",
            "channel": "web",
            "direction": "inbound",
            "occurred_at": "2021-01-01T00:05:00Z",
        },
    ]
    batch = [
        SourceRecord("t", 0, i, 1_700_000_000_000, json.dumps(e).encode())
        for i, e in enumerate(events)
    ]
    facts = plan_flush(PartitionBatch.of(batch), {}, MemoryStates(), Rules()).facts
    journeys = facts.facts("journey")
    assert sum(r["journeys"] for r in journeys) == 1
    assert sum(r["journey_channels"] for r in journeys) == 2
    assert len(facts.facts("read_pair")) == 1
