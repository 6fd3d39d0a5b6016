"""Pure per-record decisions of the worker: decode, validate, turn into rows or dead letters."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta

from streams.events import ContractError, Interaction, parse_event
from streams.logic.redact import redact, withheld
from streams.logic.times import kafka_time

# How far ahead of the Kafka record's own timestamp an event time may be (producer clock skew).
FUTURE_TOLERANCE = timedelta(days=1)


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
    """A record that passed the contract."""

    record: SourceRecord
    event: Interaction


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that did not, with the reason (it goes to the dead-letter topic).

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


def decode(record: SourceRecord) -> Accepted | Rejected:
    """Validate one record; the future bound comes from the record, so replays decide alike.

    Whatever goes wrong while deciding it (a contract error, or anything the decoder did not
    foresee) makes it a rejected record with a reason: one record never stops the others.
    A rejected record keeps its bytes for investigation, except any customer id that is not a
    pseudonym (a producer that bypassed the publisher) and anything that cannot be read as
    JSON, see :func:`reject`.
    """
    try:
        not_after = kafka_time(record.timestamp_ms) + FUTURE_TOLERANCE
        return Accepted(record, parse_event(record.value, not_after=not_after))
    except ContractError as exc:
        return reject(record, exc)
    except Exception as exc:  # deciding one record must never stop the partition
        return reject(record, ContractError(f"could not be decided ({type(exc).__name__})"))


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


def split(records: Iterable[SourceRecord]) -> tuple[list[Accepted], list[Rejected]]:
    """Decode a batch into accepted events and rejected records, order kept."""
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    for record in records:
        outcome = decode(record)
        if isinstance(outcome, Accepted):
            accepted.append(outcome)
        else:
            rejected.append(outcome)
    return accepted, rejected
