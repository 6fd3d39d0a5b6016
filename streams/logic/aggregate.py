"""Pure logic of one flush: records in, fact rows and journey states out.

The worker's decisions depend only on (a) the records, in partition offset order, (b) what
ClickHouse holds for each partition (``PartitionProgress``: last offset and event-time
watermark) and (c) the journey states as they were before each record. That is what makes a
replay after a crash decide exactly as the first pass did:

- records at or below the stored offset are skipped (their effects are in ClickHouse);
- a journey state may be *ahead* of ClickHouse (its changelog was written, the insert was not),
  so every entry in it carries the offset that wrote it, and ``as_of`` drops entries written at
  or after the record being processed;
- lateness is measured against the partition's event-time watermark, stored with the offset,
  never against the wall clock.

A journey's events share its key, hence a partition, so its state is only ever touched by the
worker that owns that partition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streams.events import Interaction
from streams.logic.buckets import call_bucket, latency_bucket
from streams.logic.ingest import Accepted, Rejected, SourceRecord, decode
from streams.logic.times import from_ms, kafka_time, to_ms

FACT_COLUMNS: tuple[str, ...] = (
    "fact",
    "event_id",
    "schema_version",
    "kind",
    "occurred_at",
    "tenant",
    "industry",
    "use_case",
    "channel",
    "journey_id",
    "customer_id",
    "direction",
    "duration_s",
    "outcome",
    "purpose",
    "message_id",
    "status",
    "read_signal",
    "handed_off",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "kafka_timestamp",
    "late",
    "duration_ms",
    "bucket_s",
    "journeys",
    "journey_channels",
    "reason",
    "code",
    "original",
    "original_size",  # a dead letter's original size and SHA-256 (migration 0006)
    "original_sha256",
    "watermark",
    "events",
    "dead",
    "duplicates",
    "late_events",
    "lag",
    "worker",
    "epoch",  # the writer's lease on the partition (migration 0005): stale owners are fenced
)
# What plan_flush builds; finish_rows adds the epoch (known to the agent, not to the logic).
PLANNED_COLUMNS = FACT_COLUMNS[:-1]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CALL_KINDS = frozenset({"ivr_call", "notification_call"})
# The tail of a row after the contract columns and Kafka position, for facts that use none of it.
_NO_EXTRAS: tuple[Any, ...] = (0, 0, 0, 0, 0, "", "", b"", 0, "", EPOCH, 0, 0, 0, 0, 0, "")
_BLANK_EVENT: tuple[Any, ...] = ("", "", False)  # status, read_signal, handed_off


@dataclass(frozen=True)
class Rules:
    """Documented semantics: how late is late, how long a journey's state lives."""

    grace_ms: int = 3_600_000  # events up to an hour behind the watermark are on time
    journey_ttl_ms: int = 120 * 86_400_000  # state outlives the longest journey (90 days)


@dataclass(slots=True)
class PartitionProgress:
    """What ClickHouse holds for one partition: last applied offset and the watermark."""

    offset: int = -1
    watermark_ms: int = 0


@dataclass(slots=True)
class PartitionStats:
    """Counters of one flush for one partition (they go to ``pipeline_health``)."""

    records: int = 0
    events: int = 0
    dead: int = 0
    duplicates: int = 0
    late: int = 0
    first_offset: int = -1
    last_offset: int = -1
    dead_codes: dict[str, int] = field(default_factory=dict)


@dataclass
class Flush:
    """Everything one flush writes: one insert of ``rows``, journey states, dead letters."""

    topic: str
    rows: list[list[Any]]
    journeys: dict[str, dict[str, Any]]
    rejected: list[Rejected]
    progress: dict[int, PartitionProgress]
    stats: dict[int, PartitionStats]

    @property
    def token(self) -> str:
        """``topic/p:first-last,...``: the insert de-duplication token of this flush."""
        parts = ",".join(
            f"{p}:{s.first_offset}-{s.last_offset}" for p, s in sorted(self.stats.items())
        )
        return f"{self.topic}/{parts}"


# ---- journey state -------------------------------------------------------------------------
# A JSON object (it is a Faust table value, written to a changelog topic):
#   h  highest offset that wrote to it          t  latest event time seen (ms), for expiry
#   e  {event_id: offset}                       c  {channel: offset first used}
#   f  [offset, occurred_ms, tenant, industry, use_case] of the journey's first-seen event
#   m  {message_id: {"s": [offset, sent_ms, purpose, channel, tenant, industry, use_case],
#                    "r": [offset, read_ms, read_signal]}}


def new_state() -> dict[str, Any]:
    return {"h": -1, "t": 0, "e": {}, "c": {}, "f": None, "m": {}}


def supersedes(incoming: Mapping[str, Any] | None, current: Mapping[str, Any] | None) -> bool:
    """Whether a changelog entry replaces the state held for its journey on recovery.

    A state only moves forward (its ``h``, the highest offset it has seen, grows), except when
    a worker that lost the partition wakes up and writes an older one after the new owner's:
    that stale entry must not win. Deletions (the TTL sweep) always apply."""
    if incoming is None or current is None:
        return True
    return int(incoming["h"]) >= int(current["h"])


def as_of(state: dict[str, Any] | None, offset: int) -> dict[str, Any]:
    """The state as it was before ``offset`` was processed (entries written at or after it,
    by a pass whose insert never reached ClickHouse, are dropped)."""
    if state is None:
        return new_state()
    if state["h"] < offset:
        return state
    messages: dict[str, dict[str, Any]] = {}
    for mid, parts in state["m"].items():
        kept = {k: v for k, v in parts.items() if v[0] < offset}
        if kept:
            messages[mid] = kept
    first = state["f"]
    kept_events = {k: o for k, o in state["e"].items() if o < offset}
    return {
        "h": max(kept_events.values(), default=-1),
        "t": state["t"],
        "e": kept_events,
        "c": {k: o for k, o in state["c"].items() if o < offset},
        "f": first if first is not None and first[0] < offset else None,
        "m": messages,
    }


def expired(state: Mapping[str, Any], watermark_ms: int, rules: Rules) -> bool:
    """True when no event of the journey happened within the state TTL before the watermark."""
    return bool(watermark_ms - state["t"] > rules.journey_ttl_ms)


# ---- rows ----------------------------------------------------------------------------------
def _event_columns(e: Interaction) -> list[Any]:
    return [
        e.event_id,
        e.schema_version,
        e.kind,
        e.occurred_at,
        e.tenant,
        e.industry,
        e.use_case,
        e.channel,
        e.journey_id,
        e.customer_id,
        e.direction,
        e.duration_s,
        e.outcome,
        e.purpose,
        e.message_id,
        e.status,
        e.read_signal,
        e.handed_off,
    ]


def interaction_row(item: Accepted, late: bool) -> list[Any]:
    """The ``interaction`` fact of a first-seen valid event."""
    e, r = item.event, item.record
    duration_ms = bucket = 0
    if e.kind in CALL_KINDS:
        duration_ms = round(e.duration_s * 1000)
        bucket = call_bucket(duration_ms)
    row = ["interaction", *_event_columns(e)]
    row += [r.topic, r.partition, r.offset, kafka_time(r.timestamp_ms), int(late), duration_ms]
    row += [bucket, *_NO_EXTRAS[3:]]
    return row


def journey_row(item: Accepted, first: list[Any], journeys: int, channels: int) -> list[Any]:
    """A ``journey`` fact: a journey first seen and/or a channel new to it."""
    e, r = item.event, item.record
    _, first_ms, tenant, industry, use_case = first
    row: list[Any] = ["journey", e.event_id, e.schema_version, e.kind, from_ms(first_ms)]
    row += [tenant, industry, use_case, e.channel, e.journey_id, e.customer_id, e.direction]
    row += [0.0, "", "", "", *_BLANK_EVENT]
    row += [r.topic, r.partition, r.offset, kafka_time(r.timestamp_ms), 0, 0, 0, journeys, channels]
    row += _NO_EXTRAS[5:]
    return row


def pair_row(item: Accepted, send: list[Any], read: list[Any]) -> list[Any]:
    """A ``read_pair`` fact: a send and its first read signal, in the send's hour."""
    e, r = item.event, item.record
    _, sent_ms, purpose, channel, tenant, industry, use_case = send
    latency = max(0, read[1] - sent_ms)  # a read stamped before its send (clock skew) is 0
    row: list[Any] = ["read_pair", e.event_id, e.schema_version, "message_sent"]
    row += [from_ms(sent_ms), tenant, industry, use_case, channel, e.journey_id, e.customer_id]
    row += ["outbound", 0.0, "", purpose, e.message_id, "", read[2], False]
    row += [r.topic, r.partition, r.offset, kafka_time(r.timestamp_ms), 0, latency]
    row += [latency_bucket(latency), *_NO_EXTRAS[3:]]
    return row


def dead_row(item: Rejected) -> list[Any]:
    """A ``dead_letter`` fact: the reason, its code and the original bytes."""
    r = item.record
    row: list[Any] = ["dead_letter", "", 0, "", EPOCH, "", "", "", "", "", "", ""]
    row += [0.0, "", "", "", "", "", False]
    row += [r.topic, r.partition, r.offset, kafka_time(r.timestamp_ms), 0, 0, 0, 0, 0]
    row += [str(item.error), item.error.code, r.value, item.size, item.sha256, *_NO_EXTRAS[10:]]
    return row


def progress_row(
    topic: str,
    partition: int,
    progress: PartitionProgress,
    stats: PartitionStats,
    *,
    lag: int,
    worker: str,
    now_ms: int,
) -> list[Any]:
    """A ``progress`` fact: where the partition stands after this flush, and its counters."""
    row: list[Any] = ["progress", "", 0, "", EPOCH, "", "", "", "", "", "", ""]
    row += [0.0, "", "", "", "", "", False]
    row += [topic, partition, progress.offset, from_ms(now_ms), 0, 0, 0, 0, 0, "", "", b"", 0, ""]
    row += [from_ms(progress.watermark_ms), stats.events, stats.dead, stats.duplicates]
    row += [stats.late, lag, worker]
    return row


# ---- one flush -----------------------------------------------------------------------------
def plan_flush(
    records: Sequence[SourceRecord],
    progress: Mapping[int, PartitionProgress],
    lookup: Callable[[str], dict[str, Any] | None],
    rules: Rules,
) -> Flush:
    """Decide a batch of records (offset order within each partition).

    ``lookup`` reads a journey's stored state (the Faust table). Records already applied
    (offset at or below ``progress``) are skipped. Returns the rows of one insert, the journey
    states to store, the rejected records and the progress after the flush.
    """
    topic = records[0].topic if records else ""
    after = {p: PartitionProgress(pp.offset, pp.watermark_ms) for p, pp in progress.items()}
    stats: dict[int, PartitionStats] = {}
    rows: list[list[Any]] = []
    states: dict[str, dict[str, Any]] = {}
    rejected: list[Rejected] = []
    for record in records:
        part = after.get(record.partition)
        if part is None:
            part = after[record.partition] = PartitionProgress()
        if record.offset <= part.offset:
            continue  # ClickHouse already holds its effects
        st = stats.get(record.partition)
        if st is None:
            st = stats[record.partition] = PartitionStats(first_offset=record.offset)
        st.records += 1
        st.last_offset = part.offset = record.offset
        outcome = decode(record)
        if isinstance(outcome, Rejected):
            st.dead += 1
            code = outcome.error.code
            st.dead_codes[code] = st.dead_codes.get(code, 0) + 1
            rows.append(dead_row(outcome))
            rejected.append(outcome)
            continue
        event = outcome.event
        jid = event.journey_id
        state = states.get(jid)
        if state is None:
            state = states[jid] = as_of(lookup(jid), record.offset)
        if event.event_id in state["e"]:
            st.duplicates += 1
            continue
        _apply(outcome, state, part, st, rules, rows)
    return Flush(topic, rows, states, rejected, after, stats)


def _apply(
    item: Accepted,
    state: dict[str, Any],
    part: PartitionProgress,
    st: PartitionStats,
    rules: Rules,
    rows: list[list[Any]],
) -> None:
    event, offset = item.event, item.record.offset
    occurred = to_ms(event.occurred_at)
    late = occurred < part.watermark_ms - rules.grace_ms
    if occurred > part.watermark_ms:
        part.watermark_ms = occurred
    st.events += 1
    st.late += late
    state["e"][event.event_id] = offset
    state["h"] = offset
    if occurred > state["t"]:
        state["t"] = occurred
    rows.append(interaction_row(item, late))

    new_journey = 0
    if state["f"] is None:
        state["f"] = [offset, occurred, event.tenant, event.industry, event.use_case]
        new_journey = 1
    new_channel = 0
    if event.channel not in state["c"]:
        state["c"][event.channel] = offset
        new_channel = 1
    if new_journey or new_channel:
        rows.append(journey_row(item, state["f"], new_journey, new_channel))

    if event.kind == "message_sent":
        message = state["m"].setdefault(event.message_id, {})
        if "s" not in message:
            message["s"] = [
                offset,
                occurred,
                event.purpose,
                event.channel,
                event.tenant,
                event.industry,
                event.use_case,
            ]
            if "r" in message:
                rows.append(pair_row(item, message["s"], message["r"]))
    elif event.kind == "message_receipt" and event.read_signal:
        message = state["m"].setdefault(event.message_id, {})
        if "r" not in message:
            message["r"] = [offset, occurred, event.read_signal]
            if "s" in message:
                rows.append(pair_row(item, message["s"], message["r"]))


def finish_rows(
    flush: Flush,
    *,
    lags: Mapping[int, int],
    worker: str,
    now_ms: int,
    epochs: Mapping[int, int] | None = None,
) -> list[list[Any]]:
    """The flush's rows followed by one ``progress`` row per partition it touched, each ending
    with the writer's lease epoch on its partition (0 when it holds none)."""
    tail = [
        progress_row(
            flush.topic,
            p,
            flush.progress[p],
            st,
            lag=lags.get(p, -1),
            worker=worker,
            now_ms=now_ms,
        )
        for p, st in sorted(flush.stats.items())
    ]
    epochs = epochs or {}
    partition = FACT_COLUMNS.index("kafka_partition")
    return [[*row, epochs.get(row[partition], 0)] for row in flush.rows + tail]
