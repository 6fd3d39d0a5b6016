"""Event and record times as integer milliseconds, the unit every decision is made in."""

from __future__ import annotations

from datetime import UTC, datetime


def to_ms(value: datetime) -> int:
    """Milliseconds since the epoch (event times carry millisecond precision)."""
    return round(value.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """The UTC datetime of ``ms`` milliseconds since the epoch."""
    return datetime.fromtimestamp(ms / 1000, UTC)


# Inside the range of ClickHouse's DateTime64(3) (1900 to 2299): a producer may stamp a record
# with any time Kafka takes, and the time of one record must never be what stops a partition.
KAFKA_TIME_RANGE_MS = (
    to_ms(datetime(1900, 1, 1, tzinfo=UTC)),
    to_ms(datetime(2299, 12, 30, tzinfo=UTC)),
)


def kafka_time(ms: int) -> datetime:
    """A Kafka record's timestamp as a datetime, clamped to what ClickHouse can store."""
    low, high = KAFKA_TIME_RANGE_MS
    return from_ms(min(max(ms, low), high))


# How far ahead of the Kafka record's own timestamp an event time may be (producer clock skew).
FUTURE_TOLERANCE_MS = 86_400_000


def latest_event_ms(record_ms: int) -> int:
    """The latest event time a record stamped ``record_ms`` may carry: its (clamped) timestamp
    plus a day. From the record, never from the clock, so a replay decides as the first pass."""
    low, high = KAFKA_TIME_RANGE_MS
    return min(max(record_ms, low), high) + FUTURE_TOLERANCE_MS
