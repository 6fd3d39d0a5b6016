"""Pure per-record decisions of the worker: decode, validate, turn into rows or dead letters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from streams.events import ContractError, Interaction, parse_event
from streams.pseudonymise import is_pseudonym

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
    """Validate one record; the future bound comes from the record, so replays decide alike.

    A rejected record keeps its bytes for investigation, except a customer id that is not a
    pseudonym (a producer that bypassed the publisher): that value is redacted before the
    record goes anywhere (dead-letter topic, ClickHouse), see :func:`redact`.
    """
    not_after = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC) + FUTURE_TOLERANCE
    try:
        return Accepted(record, parse_event(record.value, not_after=not_after))
    except ContractError as exc:
        return Rejected(replace(record, value=redact(record.value)), exc)


REDACTED = b'"redacted:not-a-pseudonym"'
# The customer id's value in JSON text, whole or cut off, valid UTF-8 or not: a string
# (escapes included) or a bare number. Found in bytes, so even a truncated record is covered.
_CUSTOMER_VALUE = re.compile(
    rb'("customer_id"\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|"(?:[^"\\]|\\.)*$)'
)


def redact(value: bytes) -> bytes:
    """``value`` with every ``customer_id`` that is not a pseudonym replaced by a marker.

    Records that are not JSON-like text at all carry no field names to go by and are kept as
    they are (the contract's producers send JSON; see docs/privacy.md).
    """

    def one(match: re.Match[bytes]) -> bytes:
        raw = match.group(2)
        try:
            text = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            text = None
        if isinstance(text, str) and is_pseudonym(text):
            return match.group(0)
        return match.group(1) + REDACTED

    return _CUSTOMER_VALUE.sub(one, value)


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
