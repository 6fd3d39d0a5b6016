"""``journey verify --offsets`` and ``--from/--to``: the source topic against the raw tables,
a range of offsets at a time, in memory bounded by a chunk of records (issue 18).

The whole ``journey verify`` (streams/tools/verify.py) reads the topic from its start and
every rollup into memory: after a week of retention it can check nothing the topic has
dropped, and its memory grows with the topic. This check reads only the offsets asked for,
``CHUNK`` records at a time, and compares each record with what the worker must have written
for it (docs/exactly-once.md):

- a record that breaks the contract: a dead letter at its partition and offset, with the
  same reason code;
- a valid record whose event (journey_id, event_id) is new: its row in the raw
  ``interactions`` table at its partition and offset, flagged late exactly when its event
  time is more than the grace behind the partition's watermark (the newest event time of the
  new events before it: the rows before the range seed it, the range's records move it);
- a valid record repeating an event: no row at its offset, and the event's row at an earlier
  offset of the partition (the first arrival counts; it may lie before the range, or even
  before the topic's log start).

Every raw row at an offset of the range must be one of those. What it cannot check, it says:
offsets the topic no longer holds (retention, deleted records), offsets the worker has not
applied yet, dead letters older than the table's 90-day TTL, and the lateness of rows stored
before migration 0017 recorded it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.errors import JourneyError
from streams.kafka.security import PLAINTEXT, KafkaSettings
from streams.logic.aggregate import Rules
from streams.logic.ingest import Accepted, SourceRecord, decide

CHUNK = 20_000  # records decided and compared at a time: the check's memory
DEAD_LETTER_TTL = timedelta(days=90)  # dead_letters' TTL (migration 0002)
EXAMPLES = 5  # differences printed per partition
HOUR_MS = 3_600_000
RANGE = re.compile(r"^(?P<partition>\d+):(?P<first>\d+)-(?P<last>\d+)$")


@dataclass(frozen=True)
class OffsetRange:
    """Offsets ``first`` to ``last`` (inclusive) of one partition."""

    partition: int
    first: int
    last: int

    def __str__(self) -> str:
        return f"{self.partition}:{self.first}-{self.last}"


def parse_range(text: str) -> OffsetRange:
    """``PARTITION:FIRST-LAST`` (inclusive), e.g. ``3:1000-1999``; anything else is an error
    that shows the form."""
    match = RANGE.match(text.strip())
    if match is None:
        raise JourneyError(
            f"--offsets {text!r}: expected PARTITION:FIRST-LAST, e.g. 3:1000-1999 (inclusive)"
        )
    found = OffsetRange(*(int(match.group(g)) for g in ("partition", "first", "last")))
    if found.last < found.first:
        raise JourneyError(f"--offsets {text!r}: the last offset is before the first")
    return found


def window_ranges(client: Client, start: datetime, end: datetime) -> list[OffsetRange]:
    """Per partition, the offsets from the first to the last record whose event the raw table
    holds within [start, end) (event time): the records of a window, and those published
    between them."""
    if end <= start:
        raise JourneyError(f"--to {end:%Y-%m-%d %H:%M} is not after --from {start:%Y-%m-%d %H:%M}")
    rows = client.query(
        _load("window_offsets").sql, parameters={"start": start, "end": end}
    ).result_rows
    return [OffsetRange(int(p), int(a), int(b)) for p, a, b, _ in rows]


@dataclass
class RangeReport:
    """What one range's check found: what it compared, what it could not, what differs."""

    asked: OffsetRange
    checked: OffsetRange | None = None  # the part the topic holds and the worker applied
    expired: int = 0  # offsets before the topic's log start: no record to compare
    unapplied: int = 0  # offsets the worker has not applied yet (or not written yet)
    records: int = 0
    accepted: int = 0
    repeated: int = 0  # valid records repeating an earlier event
    rejected: int = 0
    old_dead_letters: int = 0  # rejected records older than dead_letters' TTL
    lateness_unknown: int = 0  # raw rows stored before migration 0017 recorded lateness
    missing: int = 0  # a record without what the worker must have written for it
    extra: int = 0  # a raw row no record of the range accounts for
    wrong: int = 0  # something at the offset, but not what the record says
    examples: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.extra or self.wrong)

    def differ(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"{kind}: {text}")

    def lines(self) -> Iterator[str]:
        """The report as printed: checked, unchecked, differences."""
        verdict = "exact" if self.exact else "NOT exact"
        if self.checked is None:
            yield f"partition {self.asked}: nothing to check"
        else:
            yield (
                f"partition {self.checked}: {verdict}: {self.records:,} records, "
                f"{self.accepted:,} new events, {self.repeated:,} repeats, "
                f"{self.rejected:,} dead letters"
                + (
                    f"; missing {self.missing:,}, extra {self.extra:,}, wrong {self.wrong:,}"
                    if not self.exact
                    else ""
                )
            )
        not_checked = [
            (self.expired, "before the topic's log start (deleted or past retention)"),
            (self.unapplied, "not applied by the worker yet, or not in the topic yet"),
            (self.old_dead_letters, "rejected longer ago than dead_letters' 90-day TTL"),
            (self.lateness_unknown, "whose lateness was stored before migration 0017"),
        ]
        for n, why in not_checked:
            if n:
                yield f"    not checked: {n:,} offsets {why}"
        for example in self.examples:
            yield f"    {example}"


def check_ranges(
    client: Client,
    bootstrap: str,
    topic: str,
    ranges: Iterable[OffsetRange],
    security: KafkaSettings = PLAINTEXT,
    chunk: int = CHUNK,
    now: datetime | None = None,
    grace_ms: int = Rules().grace_ms,
) -> list[RangeReport]:
    """Each range of ``topic`` checked against the raw tables (module docstring); lateness
    with the worker's grace (JOURNEY_LATE_GRACE_S)."""
    from kafka import KafkaConsumer, TopicPartition

    applied = {
        int(p): int(last)
        for p, last, *_ in client.query(
            queries.load("partition_progress").sql, parameters={"topic": topic}
        ).result_rows
    }
    too_old = int(((now or datetime.now(UTC)) - DEAD_LETTER_TTL).timestamp() * 1000)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        **security.client_options(),
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    try:
        known = consumer.partitions_for_topic(topic) or set()
        reports = []
        for wanted in ranges:
            if wanted.partition not in known:
                raise JourneyError(
                    f"--offsets {wanted}: {topic} has no partition {wanted.partition} "
                    f"(it has {len(known)})"
                )
            tp = TopicPartition(topic, wanted.partition)
            start = consumer.beginning_offsets([tp])[tp]
            end = consumer.end_offsets([tp])[tp]
            reports.append(
                _check_range(
                    client, consumer, tp, wanted, (start, end), applied, too_old, chunk, grace_ms
                )
            )
        return reports
    finally:
        consumer.close()


def _check_range(
    client: Client,
    consumer: Any,
    tp: Any,
    wanted: OffsetRange,
    held: tuple[int, int],
    applied: dict[int, int],
    too_old_ms: int,
    chunk: int,
    grace_ms: int,
) -> RangeReport:
    report = RangeReport(wanted)
    start, end = held  # the topic's log start and end offsets of the partition
    # What exists to compare: in the topic, and applied (its effects in ClickHouse).
    last_applied = applied.get(wanted.partition, -1)
    first = max(wanted.first, start)
    last = min(wanted.last, end - 1, last_applied)
    report.expired = max(0, min(wanted.last + 1, start) - wanted.first)
    report.unapplied = max(0, wanted.last - max(min(end - 1, last_applied), first - 1))
    if first > last:
        return report
    report.checked = OffsetRange(wanted.partition, first, last)
    lateness = Lateness(grace_ms, _watermark_before(client, wanted.partition, first))
    consumer.assign([tp])
    consumer.seek(tp, first)
    lo = first
    while lo <= last:
        hi = min(lo + chunk - 1, last)
        records = _read(consumer, tp, lo, hi)
        _compare_chunk(
            client, tp.topic, wanted.partition, records, (lo, hi), too_old_ms, lateness, report
        )
        lo = hi + 1
    return report


@dataclass
class Lateness:
    """The partition's event-time watermark as the range's records move it, and the grace:
    a new event more than the grace behind it arrived late (docs/exactly-once.md)."""

    grace_ms: int
    watermark_ms: int

    def decide(self, at_ms: int) -> bool:
        """Whether a new event at ``at_ms`` is late; the watermark moves past it."""
        late = at_ms < self.watermark_ms - self.grace_ms
        self.watermark_ms = max(self.watermark_ms, at_ms)
        return late


def _watermark_before(client: Client, partition: int, first: int) -> int:
    """The watermark the worker held before ``first``: the newest event time of the raw rows
    before it (every new event of the partition has one; 0 when there are none)."""
    rows = client.query(
        _load("partition_watermark").sql, parameters={"partition": partition, "first": first}
    ).result_rows
    return int(rows[0][0]) if rows else 0


def _read(consumer: Any, tp: Any, lo: int, hi: int) -> list[SourceRecord]:
    """The records at offsets ``lo`` to ``hi`` (the consumer is positioned at ``lo``; an
    offset may hold no record: a compacted or aborted one)."""
    out: list[SourceRecord] = []
    while consumer.position(tp) <= hi:
        for message in consumer.poll(timeout_ms=1000, max_records=hi - lo + 1).get(tp, []):
            if lo <= message.offset <= hi:
                out.append(
                    SourceRecord(
                        tp.topic, tp.partition, message.offset, message.timestamp,
                        message.value or b"",
                    )
                )  # fmt: skip
    consumer.seek(tp, hi + 1)  # a poll may have fetched past the chunk
    return out


def _compare_chunk(
    client: Client,
    topic: str,
    partition: int,
    records: list[SourceRecord],
    offsets: tuple[int, int],
    too_old_ms: int,
    lateness: Lateness,
    report: RangeReport,
) -> None:
    span = {"partition": partition, "first": offsets[0], "last": offsets[1]}
    raw: dict[int, tuple[str, str]] = {}
    flags: dict[int, int] = {}  # offset -> the row's late flag (-1: not recorded)
    for o, j, e, late in client.query(_load("raw_offsets").sql, parameters=span).result_rows:
        raw[int(o)] = (str(j), str(e))
        flags[int(o)] = int(late)
    dead = _dead_letters(client, topic, span, records)
    valid: list[tuple[SourceRecord, Accepted]] = []
    for record in records:
        report.records += 1
        outcome = decide(record)
        where = f"{partition}:{record.offset}"
        if isinstance(outcome, Accepted):
            valid.append((record, outcome))
            if dead.pop(record.offset, None) is not None:
                report.differ("wrong", f"{where} is valid but has a dead letter")
            continue
        report.rejected += 1
        code = outcome.error.code
        found = dead.pop(record.offset, None)
        if found is None and record.timestamp_ms < too_old_ms:
            report.old_dead_letters += 1
        elif found is None:
            report.differ("missing", f"{where}: no dead letter (code {code})")
        elif found != code:
            report.differ("wrong", f"{where}: dead letter with code {found}, the record: {code}")
        if record.offset in raw:
            report.differ("wrong", f"{where} is rejected ({code}) but has a raw row")
            raw.pop(record.offset)
    firsts = _first_offsets_of(client, partition, valid, raw)
    for record, outcome in valid:
        ids = (outcome.event.journey_id, outcome.event.event_id)
        where = f"{partition}:{record.offset}"
        here = raw.pop(record.offset, None)
        first = firsts.get(ids)
        if first is not None and first < record.offset and here in (None, ids):
            report.repeated += 1  # the event's first arrival holds its row
            if here is not None:
                report.differ("extra", f"{where} repeats {partition}:{first} and has a row too")
            continue
        late = lateness.decide(outcome.occurred_ms)  # a new event moves the watermark
        if here is None:
            report.differ("missing", f"{where}: no raw row for event {ids}")
            continue
        if here != ids:
            report.differ("wrong", f"{where} holds event {here}, the record is {ids}")
            continue
        report.accepted += 1
        flag = flags[record.offset]
        if flag < 0:
            report.lateness_unknown += 1
        elif flag != late:
            said = "late" if flag else "on time"
            report.differ("wrong", f"{where}: stored {said}, the record is {_lateness(late)}")
    for offset, ids in raw.items():
        report.differ("extra", f"{partition}:{offset} holds {ids}, no record of the range says so")
    for offset, code in dead.items():
        report.differ("extra", f"{partition}:{offset} dead letter ({code}), no such record")


def _lateness(late: bool) -> str:
    return "late (behind the watermark by more than the grace)" if late else "on time"


def _dead_letters(
    client: Client, topic: str, span: dict[str, int], records: list[SourceRecord]
) -> dict[int, str]:
    """The dead letters at the chunk's offsets (offset -> code)."""
    if not records:
        return {}
    times = [r.timestamp_ms for r in records]
    window = {
        "since": datetime.fromtimestamp(min(times) / 1000, UTC) - timedelta(seconds=1),
        "until": datetime.fromtimestamp(max(times) / 1000, UTC) + timedelta(seconds=1),
    }
    rows = client.query(
        _load("dead_letter_offsets").sql, parameters={**span, **window, "topic": topic}
    ).result_rows
    return {int(o): str(c) for o, c in rows}


def _first_offsets_of(
    client: Client,
    partition: int,
    valid: list[tuple[SourceRecord, Accepted]],
    raw: dict[int, tuple[str, str]],
) -> dict[tuple[str, str], int]:
    """The offset of each valid record's event's first row in the raw table (any offset,
    before the chunk too): read by the table's key (tenant, hour), then, for a record with no
    row of its own whose event was not found so (an id repeated with another event time or
    tenant, rare), by id alone."""
    if not valid:
        return {}
    keys = {_key(o) for _, o in valid}
    found = _first_offsets(client, "first_offsets", partition, keys)
    left = {
        _key(o)
        for r, o in valid
        if r.offset not in raw and (o.event.journey_id, o.event.event_id) not in found
    }
    if left:
        found |= _first_offsets(client, "first_offsets_anywhere", partition, left)
    return found


def _key(outcome: Accepted) -> tuple[str, int, str, str]:
    """(tenant, hour in epoch seconds, journey_id, event_id): the raw table's key prefix."""
    e = outcome.event
    return (e.tenant, outcome.occurred_ms // HOUR_MS * 3600, e.journey_id, e.event_id)


def _first_offsets(
    client: Client, name: str, partition: int, keys: set[tuple[str, int, str, str]]
) -> dict[tuple[str, str], int]:
    """Run ``name`` with ``keys`` sent as the external table ``verify_keys``: a chunk's keys
    are too many for a query parameter (an HTTP form field)."""
    from clickhouse_connect.driver.external import ExternalData

    lines = (
        json.dumps({"tenant": t, "hour": h, "journey_id": j, "event_id": e})
        for t, h, j, e in sorted(keys)
    )
    data = ExternalData(
        file_name="verify_keys",
        data="\n".join(lines).encode(),
        fmt="JSONEachRow",
        structure="tenant String, hour DateTime('UTC'), journey_id String, event_id String",
    )
    rows = client.query(
        _load(name).sql, parameters={"partition": partition}, external_data=data
    ).result_rows
    return {(str(j), str(e)): int(o) for j, e, o in rows}


def _load(name: str) -> queries.NamedQuery:
    return queries.load(name, queries.VERIFY_DIR)
