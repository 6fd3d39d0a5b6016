"""Pure per-record decisions of the worker: decode, validate, turn into rows or dead letters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from streams.events import ContractError, Interaction, parse_event

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
    """A record that did not, with the reason (it goes to the dead-letter topic)."""

    record: SourceRecord
    error: ContractError


def decode(record: SourceRecord) -> Accepted | Rejected:
    """Validate one record; the future bound comes from the record, so replays decide alike."""
    not_after = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC) + FUTURE_TOLERANCE
    try:
        return Accepted(record, parse_event(record.value, not_after=not_after))
    except ContractError as exc:
        return Rejected(record, exc)


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
