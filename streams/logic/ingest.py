"""Pure per-record decisions of the worker: valid or not, and what is kept of a rejected one."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, replace

from streams.decoder import Event, decode_batch
from streams.events import ContractError
from streams.logic.redact import redact, withheld
from streams.logic.times import latest_event_ms


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """What the worker needs of one Kafka record."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    value: bytes


@dataclass(frozen=True, slots=True)
class Accepted:
    """A record that passed the contract: its event, and the event time in UTC ms."""

    record: SourceRecord
    event: Event
    occurred_ms: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that broke the contract, with the reason (it goes to the dead-letter topic).

    ``record.value`` is what is kept of the original: redacted (:mod:`streams.logic.redact`)
    and cut to ``MAX_KEPT_BYTES``; ``size`` and ``sha256`` describe the original as it came.
    """

    record: SourceRecord
    error: ContractError
    size: int = 0
    sha256: str = ""

    @property
    def cut(self) -> bool:
        """Whether the kept bytes are only the start of the original."""
        return self.size > MAX_KEPT_BYTES


# How much of a rejected record is kept (dead-letter topic and table). A record may be as
# large as the broker allows (1 MB by default); its dead letter carries these bytes as base64
# inside JSON and must always fit the producer's limit, so only the start is kept.
MAX_KEPT_BYTES = 64 * 1024


def decide(record: SourceRecord) -> Accepted | Rejected:
    """One record as the worker decides it (``plan_flush`` does this for each record of a
    batch, by the same code): the bound on the event time comes from the record, so a replay
    decides exactly as the first pass. Whatever goes wrong deciding it makes it a rejected
    record with a reason: one record never stops the others."""
    decoded = decode_batch([record.value], [latest_event_ms(record.timestamp_ms)])
    if decoded.events:
        return Accepted(record, decoded.events[0], decoded.times[0])
    return reject(record, decoded.rejected[0][1])


def reject(record: SourceRecord, error: ContractError) -> Rejected:
    """The rejected form of ``record``: redacted, cut to ``MAX_KEPT_BYTES``, described by the
    original's size and SHA-256 (so an engineer can match it with what the producer sent)."""
    value = record.value
    try:
        kept = redact(value[:MAX_KEPT_BYTES])
    except Exception:  # nothing could be established about these bytes: keep none of them
        kept = withheld(len(value))
    digest = hashlib.sha256(value).hexdigest()
    return Rejected(replace(record, value=kept), error, len(value), digest)


def dead_letter_value(rejected: Rejected) -> bytes:
    """The dead-letter topic's value: the reason, where the record came from, and what is kept
    of it (at most ``MAX_KEPT_BYTES``, so the message is always far below Kafka's 1 MB)."""
    record = rejected.record
    return json.dumps(
        {
            "reason": str(rejected.error),
            "code": rejected.error.code,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "original_b64": base64.b64encode(record.value).decode(),
            "original_bytes": rejected.size,
            "original_sha256": rejected.sha256,
            "original_cut": rejected.cut,
        }
    ).encode()
