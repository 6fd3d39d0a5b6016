"""The pure decision of every hostile record class: a dead letter with a reason, never a crash,
and a dead-letter message that always fits the topic."""

from __future__ import annotations

import json

import pytest

from streams.events import ContractError
from streams.logic.aggregate import PartitionBatch, Rules, plan_flush
from streams.logic.ingest import (
    MAX_KEPT_BYTES,
    Accepted,
    Rejected,
    SourceRecord,
    dead_letter_value,
    decide,
)
from streams.logic.journey_state import MemoryStates
from tests.hostile import VALID, Hostile, hostile_records

NOW_MS = 1_700_000_000_000


REJECTED = [h for h in hostile_records() if not h.valid]
VALID_HOSTILE = [h for h in hostile_records() if h.valid]


@pytest.mark.parametrize("hostile", VALID_HOSTILE, ids=lambda h: h.name)
def test_a_hostile_looking_event_the_contract_accepts_is_counted(hostile: Hostile) -> None:
    assert isinstance(decide(SourceRecord("t", 0, 7, NOW_MS, hostile.value or b"")), Accepted)


@pytest.mark.parametrize("hostile", REJECTED, ids=lambda h: h.name)
def test_each_hostile_record_is_rejected_with_a_reason(hostile: Hostile) -> None:
    outcome = decide(SourceRecord("t", 0, 7, NOW_MS, hostile.value or b""))
    assert isinstance(outcome, Rejected), hostile.name
    assert outcome.error.reason and outcome.error.code
    assert len(outcome.record.value) <= MAX_KEPT_BYTES + 64
    assert outcome.size == len(hostile.value or b"")
    message = dead_letter_value(outcome)
    assert len(message) < 100_000  # base64 of at most 64 KiB inside JSON, far below 1 MB
    body = json.loads(message)
    assert body["original_bytes"] == outcome.size and len(body["original_sha256"]) == 64


def test_a_5000_digit_number_is_named_in_the_reason() -> None:
    (hostile,) = [h for h in hostile_records() if h.name == "schema_version_of_5000_digits"]
    outcome = decide(SourceRecord("t", 0, 0, NOW_MS, hostile.value or b""))
    assert isinstance(outcome, Rejected)
    assert str(outcome.error) == "schema_version: is out of range"


def test_an_error_nobody_foresaw_is_a_dead_letter_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import streams.decoder as decoder

    class Broken:
        def decode(self, *_: object) -> None:
            raise KeyError("something unforeseen")

    monkeypatch.setattr(decoder, "_EXACT_DECODER", Broken())
    monkeypatch.setattr(decoder, "_DECODER", Broken())
    outcome = decide(SourceRecord("t", 0, 0, NOW_MS, json.dumps(VALID).encode()))
    assert isinstance(outcome, Rejected)
    assert outcome.error.code == "event:could not be decided"
    assert "KeyError" in str(outcome.error)


def test_a_record_time_kafka_takes_but_clickhouse_cannot_store_stops_nothing() -> None:
    far = 10**15  # year 33658
    records = [
        SourceRecord("t", 0, 0, far, json.dumps(VALID).encode()),
        SourceRecord("t", 0, 1, -(10**15), b"not json"),
    ]
    flush = plan_flush(PartitionBatch.of(records), {}, MemoryStates(), Rules())
    assert flush.stats[0].records == 2 and flush.stats[0].dead == 1


def test_hostile_records_between_valid_ones_take_nothing_valid_with_them() -> None:
    values = [json.dumps(VALID | {"event_id": "before"}).encode()]
    values += [h.value or b"" for h in hostile_records()]
    values += [json.dumps(VALID | {"event_id": "after"}).encode()]
    records = [SourceRecord("t", 0, i, NOW_MS, v) for i, v in enumerate(values)]
    flush = plan_flush(PartitionBatch.of(records), {}, MemoryStates(), Rules())
    assert flush.stats[0].events == 2 + len(VALID_HOSTILE)
    assert flush.stats[0].dead == len(REJECTED)
    assert flush.progress[0].offset == len(values) - 1


@pytest.mark.parametrize(
    ("reason", "field", "code"),
    [
        ("'carrier_pigeon' is not one of email, phone", "channel",
         "channel:… is not one of email, phone"),
        ("2021-06-24T10:00:00.000Z is in the future", "occurred_at",
         "occurred_at:N is in the future"),
        ("is not UTF-8 (byte 3)", None, "event:is not UTF-8"),
        ("version 2 is newer than this reader understands", "schema_version",
         "schema_version:version N is newer than this reader understands"),
        ("'em\\'ail' cannot carry a ivr_call (allowed: phone)", "channel",
         "channel:… cannot carry a ivr_call"),
        ("1e+300 is above the maximum 86400", "duration_s", "duration_s:N is above the maximum N"),
        ("is not JSON: Expecting value at column 5", None, "event:is not JSON"),
    ],
)  # fmt: skip
def test_a_rejection_code_never_holds_a_value_from_the_record(
    reason: str, field: str | None, code: str
) -> None:
    # The code labels /metrics and the reason table: values from records would let hostile
    # traffic grow them without bound.
    assert ContractError(reason, field).code == code
