"""Pure logic of one flush: partition batches in, fact columns and journey states out.

The worker's decisions depend only on (a) the records, in offset order within each partition,
(b) what ClickHouse holds for each partition (``PartitionProgress``: last offset and event-time
watermark) and (c) the journey states as they were before each record. That is what makes a
replay after a crash decide exactly as the first pass did:

- records at or below the stored offset are skipped (their effects are in ClickHouse);
- a journey state may be *ahead* of ClickHouse (it was stored, the insert was not), so every
  entry in it carries the offset that wrote it, and ``as_of`` drops entries written at or
  after the record being processed;
- lateness is measured against the partition's event-time watermark, stored with the offset,
  never against the wall clock.

A journey's events share its key, hence a partition, and its state is kept per partition: only
the worker that owns the partition touches it.

The hot path is per record: one decode (``streams.decoder``, in C), one hash, a few dict
operations on the journey's state; everything else (the columns of the insert, the states to
store) is built once per flush.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from streams.decoder import Decoded, Event, canonical, decode_batch
from streams.events import SCHEMA_VERSION, ContractError
from streams.logic import customers
from streams.logic.buckets import call_bucket, latency_bucket
from streams.logic.facts import Facts, event_columns
from streams.logic.ingest import Rejected, SourceRecord, reject
from streams.logic.journey_state import (
    Conversation,
    First,
    JourneyState,
    Message,
    Opening,
    Read,
    Send,
    as_of,
    id_hash,
)
from streams.logic.journey_state import (
    decode as decode_state,
)
from streams.logic.times import FUTURE_TOLERANCE_MS, KAFKA_TIME_RANGE_MS


@dataclass(frozen=True)
class Rules:
    """Documented semantics: how late is late, how long a journey's state lives."""

    grace_ms: int = 3_600_000  # events up to an hour behind the watermark are on time
    journey_ttl_ms: int = 120 * 86_400_000  # state outlives the longest journey (90 days)
    # Hand the customer's own events on to the second stage (``Flush.forward``): the
    # customer-level metrics (streams/logic/customers.py, docs/customer-metrics.md).
    forward_customers: bool = False


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


@dataclass(frozen=True, slots=True)
class PartitionBatch:
    """Records of one partition in offset order, as parallel columns (the shape Kafka clients
    fetch them in: no object per record is needed)."""

    topic: str
    partition: int
    offsets: Sequence[int]
    timestamps: Sequence[int]  # the Kafka records' timestamps, milliseconds
    values: Sequence[bytes]

    def __len__(self) -> int:
        return len(self.offsets)

    @classmethod
    def of(cls, records: Iterable[SourceRecord]) -> list[PartitionBatch]:
        """``records`` (offset order within each partition) grouped into batches."""
        grouped: dict[tuple[str, int], list[SourceRecord]] = {}
        for r in records:
            grouped.setdefault((r.topic, r.partition), []).append(r)
        return [
            cls(
                topic,
                partition,
                [r.offset for r in group],
                [r.timestamp_ms for r in group],
                [r.value for r in group],
            )
            for (topic, partition), group in grouped.items()
        ]


class StateReader(Protocol):
    """Where journey states are read from: the worker's store, or a dict."""

    def load(self, partition: int, journey_ids: Sequence[str]) -> Sequence[bytes | None]:
        """The stored state of each journey id (None for a journey never seen)."""
        ...


@dataclass
class Flush:
    """Everything one flush writes: one insert of ``facts``, the journey states it changed
    (per partition), the records it rejected (for the dead-letter topic), the progress after
    it."""

    topic: str
    facts: Facts
    # per partition, key -> state: JourneyState (first stage), CustomerState (second)
    states: dict[int, dict[str, Any]]
    rejected: list[Rejected]
    progress: dict[int, PartitionProgress]
    stats: dict[int, PartitionStats]
    # With ``Rules.forward_customers``: (customer pseudonym, the event's canonical JSON) of
    # each new digital touch and contact, for the repartition topic the second stage reads.
    forward: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def token(self) -> str:
        """``topic/p:first-last,...``: the insert de-duplication token of this flush."""
        parts = ",".join(
            f"{p}:{s.first_offset}-{s.last_offset}" for p, s in sorted(self.stats.items())
        )
        return f"{self.topic}/{parts}"


@dataclass
class _Decided:
    """What the records of a flush turned into, before the columns are built."""

    events: list[Event] = field(default_factory=list)
    times: list[int] = field(default_factory=list)  # occurred_at, ms
    partitions: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)  # Kafka timestamps, ms
    late: list[int] = field(default_factory=list)
    forward: list[tuple[str, bytes]] = field(default_factory=list)  # see Flush.forward
    # (event, first, partition, offset, stamp, journeys, channels, sign): sign -1 retracts
    # what an earlier count put in a cell the journey left (a correction)
    journeys: list[tuple[Event, First, int, int, int, int, int, int]] = field(default_factory=list)
    # (event, send, read, partition, offset, stamp, sign)
    pairs: list[tuple[Event, Send, Read, int, int, int, int]] = field(default_factory=list)
    # (event, send, reply, partition, offset, stamp, sign): the same for a send and its reply
    replies: list[tuple[Event, Send, Read, int, int, int, int]] = field(default_factory=list)
    # (event, opening, first response ms or None, partition, offset, stamp, sign): a
    # conversation's row, retracted (-1) and written again (+1) whenever it changes
    conversations: list[tuple[Event, Opening, int | None, int, int, int, int]] = field(
        default_factory=list
    )


def plan_flush(
    batches: Sequence[PartitionBatch],
    progress: Mapping[int, PartitionProgress],
    store: StateReader,
    rules: Rules,
) -> Flush:
    """Decide the records of ``batches`` (several batches of one partition come in offset
    order). Records already applied (offset at or below ``progress``) are skipped. Returns the
    insert's facts, the journey states to store, the rejected records and the progress after
    the flush."""
    topic = batches[0].topic if batches else ""
    after = {p: PartitionProgress(pp.offset, pp.watermark_ms) for p, pp in progress.items()}
    stats: dict[int, PartitionStats] = {}
    states: dict[int, dict[str, JourneyState]] = {}
    rejected: list[Rejected] = []
    decided = _Decided()
    for batch in batches:
        p = batch.partition
        begun = begin(batch, after, stats)
        if begun is None:
            continue
        part, st, start = begun
        accepted = _decode(batch, start, st, rejected)
        _apply(accepted, batch, part, st, states.setdefault(p, {}), store, rules, decided)
    facts = Facts()
    _interaction_facts(topic, decided, facts)
    _journey_facts(topic, decided, facts)
    _pair_facts(topic, "read_pair", decided.pairs, facts)
    _pair_facts(topic, "reply", decided.replies, facts)
    _conversation_facts(topic, decided.conversations, facts)
    _dead_facts(rejected, facts)
    return Flush(topic, facts, states, rejected, after, stats, decided.forward)


def begin(
    batch: PartitionBatch,
    after: dict[int, PartitionProgress],
    stats: dict[int, PartitionStats],
) -> tuple[PartitionProgress, PartitionStats, int] | None:
    """Where ``batch`` starts in a flush (either stage's): its partition's progress and stats,
    and the first position ClickHouse does not hold (None: it holds them all). The progress
    moves to the batch's last offset and the stats count its records from there."""
    p = batch.partition
    part = after.get(p)
    if part is None:
        part = after[p] = PartitionProgress()
    start = bisect_right(batch.offsets, part.offset)  # ClickHouse holds the ones before
    if start == len(batch.offsets):
        return None
    st = stats.get(p)
    if st is None:
        st = stats[p] = PartitionStats(first_offset=batch.offsets[start])
    st.records += len(batch.offsets) - start
    st.last_offset = part.offset = batch.offsets[-1]
    return part, st, start


def _decode(
    batch: PartitionBatch, start: int, st: PartitionStats, rejected: list[Rejected]
) -> Decoded:
    """Every valid record from ``start``, decoded; the others are rejected with their
    reason."""
    low, high = KAFKA_TIME_RANGE_MS
    bounds = [
        (s if low <= s <= high else high if s > high else low) + FUTURE_TOLERANCE_MS
        for s in batch.timestamps
    ]
    decoded = decode_batch(batch.values, bounds, start)
    for i, error in decoded.rejected:
        _reject(batch, i, error, st, rejected)
    return decoded


def _reject(
    batch: PartitionBatch,
    i: int,
    error: ContractError,
    st: PartitionStats,
    rejected: list[Rejected],
) -> None:
    record = SourceRecord(
        batch.topic, batch.partition, batch.offsets[i], batch.timestamps[i], batch.values[i]
    )
    rejected.append(reject(record, error))
    st.dead += 1
    st.dead_codes[error.code] = st.dead_codes.get(error.code, 0) + 1


def _apply(
    accepted: Decoded,
    batch: PartitionBatch,
    part: PartitionProgress,
    st: PartitionStats,
    states: dict[str, JourneyState],
    store: StateReader,
    rules: Rules,
    out: _Decided,
) -> None:
    """De-duplicate, classify lateness, join, and note the facts, record by record."""
    unseen = list({e.journey_id for e in accepted.events if e.journey_id not in states})
    stored = dict(zip(unseen, store.load(batch.partition, unseen), strict=True)) if unseen else {}
    p, offsets, stamps = batch.partition, batch.offsets, batch.timestamps
    grace = rules.grace_ms
    watermark = part.watermark_ms
    on_time_from = watermark - grace
    kept: list[int] = []  # positions in ``accepted`` of first-seen events
    late: list[int] = []
    keep, note_late = kept.append, late.append
    journeys, pairs, replies = out.journeys, out.pairs, out.replies
    events, indexes = accepted.events, accepted.indexes
    for j, ms in enumerate(accepted.times):
        event = events[j]
        i = indexes[j]
        offset = offsets[i]
        jid = event.journey_id
        state = states.get(jid)
        if state is None:
            state = states[jid] = as_of(decode_state(stored[jid]), offset)
        key = id_hash(event.event_id.encode())
        seen = state.events
        if key in seen:
            continue
        keep(j)
        note_late(ms < on_time_from)
        if ms > watermark:
            watermark = ms
            on_time_from = ms - grace
        seen[key] = offset
        state.h = offset
        if ms > state.t:
            state.t = ms

        # The journey: counted once, with its channels, in the cell of its earliest event.
        first = state.first
        channel = event.channel
        new_channel = channel not in state.channels
        if new_channel:
            state.channels[channel] = offset
        if first is None:
            first = state.first = First(offset, ms, event.tenant, event.industry, event.use_case)
            journeys.append((event, first, p, offset, stamps[i], 1, 1, 1))
        elif ms <= first.occurred_ms and _earlier_first(ms, event, first):
            # An earlier event arrived late: the journey moves to its cell (a correction).
            state.firsts.append(first)
            moved = state.first = First(offset, ms, event.tenant, event.industry, event.use_case)
            counted = len(state.channels)
            journeys.append((event, first, p, offset, stamps[i], 1, counted - new_channel, -1))
            journeys.append((event, moved, p, offset, stamps[i], 1, counted, 1))
        elif new_channel:
            journeys.append((event, first, p, offset, stamps[i], 0, 1, 1))

        kind = event.kind
        if kind == "message_sent":
            message = _message(state, event.message_id)
            old_send = message.send
            if old_send is None or (ms <= old_send.sent_ms and _earlier_send(ms, event, old_send)):
                send = message.send = Send(
                    offset, ms, event.purpose, channel, event.tenant, event.industry,
                    event.use_case, bool(event.reply_enabled),
                )  # fmt: skip
                if old_send is not None:
                    message.sends.append(old_send)
                for half, found in ((message.read, pairs), (message.reply, replies)):
                    if half is not None:
                        before = (old_send, half) if old_send is not None else None
                        _correct(found, event, before, (send, half), p, offset, stamps[i])
        elif kind == "message_receipt" and event.read_signal:
            message = _message(state, event.message_id)
            signal = event.read_signal
            _signal(message, "read", ms, signal, pairs, event, p, offset, stamps[i])
            if signal == "reply_proxy":
                _signal(message, "reply", ms, signal, replies, event, p, offset, stamps[i])
        elif kind == "message_received" and event.in_reply_to:
            # The customer's own message answering the brand's (contract 1.1): a reply.
            message = _message(state, event.in_reply_to)
            _signal(message, "reply", ms, kind, replies, event, p, offset, stamps[i])
        if event.conversation_id is not None:  # contract 1.1: a social or chat conversation
            _converse(state, event, ms, offset, out.conversations, p, stamps[i])
    part.watermark_ms = watermark
    st.duplicates += len(events) - len(kept)
    st.events += len(kept)
    st.late += sum(late)
    if len(kept) == len(events):  # no duplicate: the decoded lists are the facts' own
        out.events.extend(events)
        out.times.extend(accepted.times)
        positions = indexes
    else:
        out.events.extend([events[j] for j in kept])
        out.times.extend([accepted.times[j] for j in kept])
        positions = [indexes[j] for j in kept]
    if rules.forward_customers:
        # The canonical form, never the bytes as they came: only the contract's fields go on
        # (a field the contract does not name, which may hold anything, stays behind).
        new = len(out.events) - len(kept)  # this batch's first-seen events are the last ones
        out.forward.extend(
            (event.customer_id, canonical(event, ms))
            for event, ms in zip(out.events[new:], out.times[new:], strict=True)
            if customers.is_own(event)
        )
    out.partitions.extend([p] * len(kept))
    out.offsets.extend([offsets[i] for i in positions])
    out.stamps.extend([stamps[i] for i in positions])
    out.late.extend(late)


def _message(state: JourneyState, message_id: str) -> Message:
    key = id_hash(message_id.encode())
    message = state.messages.get(key)
    if message is None:
        message = state.messages[key] = Message()
    return message


def _converse(
    state: JourneyState,
    event: Event,
    ms: int,
    offset: int,
    found: list[tuple[Event, Opening, int | None, int, int, int, int]],
    p: int,
    stamp: int,
) -> None:
    """A message of a conversation: the customer's (a ``message_received``, or an inbound
    touch) may open it, the brand's (an outbound touch) may be its first response. The
    conversation's one row (its opening's cell, and when it was first answered) is retracted
    and written again whenever the event changes it."""
    assert event.conversation_id is not None
    key = id_hash(event.conversation_id.encode())
    conversation = state.conversations.get(key)
    if conversation is None:
        conversation = state.conversations[key] = Conversation()
    before = (conversation.opening, conversation.first_response_ms())
    if event.kind == "touch" and event.direction == "outbound":
        conversation.replies.append((offset, ms))
    else:
        opening = conversation.opening
        if opening is None or (ms <= opening.ms and _earlier_opening(ms, event, opening)):
            if opening is not None:
                conversation.openings.append(opening)
            conversation.opening = Opening(
                offset, ms, event.tenant, event.industry, event.use_case, event.channel
            )
    after = (conversation.opening, conversation.first_response_ms())
    if after != before:
        retracted = before if before[0] is not None else None
        _correct(found, event, retracted, after if after[0] is not None else None, p, offset, stamp)


# ---- "first" is first by event time ------------------------------------------------------
# Of two candidates, the earlier by event time wins; in the same millisecond, the one whose
# counted fields sort first. Candidates alike in every counted field are interchangeable, so
# whichever arrives first may stay. Callers test ``ms <=`` the current one's time first (the
# common case, an event later than the current first, costs one comparison).


def _earlier_first(ms: int, event: Event, first: First) -> bool:
    """Whether ``event`` at ``ms`` is a journey's first event rather than ``first``."""
    if ms < first.occurred_ms:
        return True
    return (event.tenant, event.industry, event.use_case) < (
        first.tenant, first.industry, first.use_case,
    )  # fmt: skip


def _earlier_opening(ms: int, event: Event, opening: Opening) -> bool:
    """Whether the customer's message ``event`` at ``ms`` opens its conversation rather than
    ``opening``."""
    if ms < opening.ms:
        return True
    return (event.tenant, event.industry, event.use_case, event.channel) < (
        opening.tenant, opening.industry, opening.use_case, opening.channel,
    )  # fmt: skip


def _earlier_send(ms: int, event: Event, send: Send) -> bool:
    """Whether ``event`` at ``ms`` is a message's send rather than ``send`` (one message id
    sent twice)."""
    if ms < send.sent_ms:
        return True
    return (
        event.purpose, event.channel, event.tenant, event.industry, event.use_case,
        bool(event.reply_enabled),
    ) < (
        send.purpose, send.channel, send.tenant, send.industry, send.use_case, send.reply_enabled,
    )  # fmt: skip


def _earlier_read(ms: int, signal: str, read: Read | None) -> bool:
    """Whether a signal at ``ms`` is a message's first read signal (or reply) rather than
    ``read``."""
    return read is None or ms < read.read_ms or (ms == read.read_ms and signal < read.signal)


# What a signal slot of a message displaces goes to the list beside it, for ``as_of``.
_DISPLACED = {"read": "reads", "reply": "replies"}


def _signal(
    message: Message,
    slot: Literal["read", "reply"],
    ms: int,
    signal: str,
    found: list[tuple[Event, Send, Read, int, int, int, int]],
    event: Event,
    p: int,
    offset: int,
    stamp: int,
) -> None:
    """A signal at ``ms`` for ``message``'s ``slot``: its first read signal (``read``), or its
    first reply (``reply``: a ``reply_proxy`` receipt, or the customer's own message). It takes
    the slot if it is the earliest; with a send, the pair changes (a correction)."""
    old = getattr(message, slot)
    if not _earlier_read(ms, signal, old):
        return
    new = Read(offset, ms, signal)
    setattr(message, slot, new)
    if old is not None:
        getattr(message, _DISPLACED[slot]).append(old)
    send = message.send
    if send is not None:
        _correct(
            found, event, (send, old) if old is not None else None, (send, new), p, offset, stamp
        )


def _correct(
    found: list[Any],
    event: Event,
    before: tuple[Any, Any] | None,
    after: tuple[Any, Any] | None,
    p: int,
    offset: int,
    stamp: int,
) -> None:
    """A derived row (a pair's two halves, a conversation's opening and response) changed from
    ``before`` to ``after`` (None: no row) at ``event``: the old row is retracted (sign -1)
    and the new one counted (+1)."""
    if before is not None:
        found.append((event, *before, p, offset, stamp, -1))
    if after is not None:
        found.append((event, *after, p, offset, stamp, 1))


# ---- the facts of a flush, column by column -----------------------------------------------
def _clamped(stamps: list[int]) -> list[int]:
    """Kafka timestamps within what ClickHouse's DateTime64(3) stores (a producer may stamp a
    record with any time Kafka takes; the time of one record must never stop a partition)."""
    low, high = KAFKA_TIME_RANGE_MS
    if not stamps or (min(stamps) >= low and max(stamps) <= high):
        return stamps
    return [high if s > high else low if s < low else s for s in stamps]


def _interaction_facts(topic: str, d: _Decided, facts: Facts) -> None:
    """A first-seen valid event: its contract fields, where it came from, lateness."""
    events, n = d.events, len(d.events)
    durations = [round(e.duration_s * 1000) if e.duration_s else 0 for e in events]
    facts.add(
        "interaction",
        n,
        {
            **event_columns(events),
            "schema_version": [SCHEMA_VERSION] * n,
            "occurred_at": d.times,
            "kafka_topic": [topic] * n,
            "kafka_partition": d.partitions,
            "kafka_offset": d.offsets,
            "kafka_timestamp": _clamped(d.stamps),
            "late": d.late,
            "duration_ms": durations,
            "bucket_s": [call_bucket(ms) if ms else 0 for ms in durations],
        },
    )


def _derived_from(topic: str, rows: Sequence[tuple[Any, ...]], at: int) -> dict[str, list[Any]]:
    """Where derived rows (journeys, pairs, conversations) came from: the event that made each
    one (``row[0]``) and its Kafka position (partition, offset and timestamp at
    ``row[at:at+3]``)."""
    n = len(rows)
    return {
        "event_id": [r[0].event_id for r in rows],
        "schema_version": [SCHEMA_VERSION] * n,
        "journey_id": [r[0].journey_id for r in rows],
        "customer_id": [r[0].customer_id for r in rows],
        "kafka_topic": [topic] * n,
        "kafka_partition": [r[at] for r in rows],
        "kafka_offset": [r[at + 1] for r in rows],
        "kafka_timestamp": _clamped([r[at + 2] for r in rows]),
    }


def _journey_facts(topic: str, d: _Decided, facts: Facts) -> None:
    """A journey new (``journeys`` = 1) and/or a channel new to it, counted in the hour and
    cell of the journey's earliest event; a journey whose earliest event changed is retracted
    from its old cell (``sign`` -1, with the channels counted there) and counted in the new."""
    rows = d.journeys
    n = len(rows)
    facts.add(
        "journey",
        n,
        {
            **_derived_from(topic, rows, 2),
            "kind": [r[0].kind for r in rows],
            "occurred_at": [r[1].occurred_ms for r in rows],
            "tenant": [r[1].tenant for r in rows],
            "industry": [r[1].industry for r in rows],
            "use_case": [r[1].use_case for r in rows],
            "channel": [r[0].channel for r in rows],
            "direction": [r[0].direction for r in rows],
            "journeys": [r[5] for r in rows],
            "journey_channels": [r[6] for r in rows],
            "sign": [r[7] for r in rows],
        },
    )


def _pair_facts(
    topic: str, fact: str, rows: list[tuple[Event, Send, Read, int, int, int, int]], facts: Facts
) -> None:
    """A send and its first read signal (``read_pair``) or first reply (``reply``), in the
    send's hour and cell; latency in ``duration_ms`` (a signal stamped before its send, clock
    skew, counts as 0). ``sign`` -1 retracts a pair an earlier signal (or send) replaced."""
    n = len(rows)
    latencies = [max(0, r[2].read_ms - r[1].sent_ms) for r in rows]
    facts.add(
        fact,
        n,
        {
            **_derived_from(topic, rows, 3),
            "kind": ["message_sent"] * n,
            "occurred_at": [r[1].sent_ms for r in rows],
            "tenant": [r[1].tenant for r in rows],
            "industry": [r[1].industry for r in rows],
            "use_case": [r[1].use_case for r in rows],
            "channel": [r[1].channel for r in rows],
            "direction": ["outbound"] * n,
            "purpose": [r[1].purpose for r in rows],
            "message_id": [r[0].message_id for r in rows],
            "read_signal": [r[2].signal for r in rows],
            "duration_ms": latencies,
            "bucket_s": [latency_bucket(ms) for ms in latencies],
            "sign": [r[6] for r in rows],
            "reply_enabled": [r[1].reply_enabled for r in rows],
        },
    )


def _conversation_facts(
    topic: str, rows: list[tuple[Event, Opening, int | None, int, int, int, int]], facts: Facts
) -> None:
    """A social or chat conversation, in its opening's hour and cell: ``status`` answered
    (``duration_ms`` from the opening to the brand's first response) or unanswered; ``sign``
    -1 retracts the row the conversation had before the event that changed it."""
    n = len(rows)
    latencies = [r[2] - r[1].ms if r[2] is not None else 0 for r in rows]
    facts.add(
        "conversation",
        n,
        {
            **_derived_from(topic, rows, 3),
            "kind": [r[0].kind for r in rows],
            "occurred_at": [r[1].ms for r in rows],
            "tenant": [r[1].tenant for r in rows],
            "industry": [r[1].industry for r in rows],
            "use_case": [r[1].use_case for r in rows],
            "channel": [r[1].channel for r in rows],
            "direction": ["inbound"] * n,
            "conversation_id": [r[0].conversation_id for r in rows],
            "status": ["unanswered" if r[2] is None else "answered" for r in rows],
            "duration_ms": latencies,
            "bucket_s": [latency_bucket(ms) for ms in latencies],
            "sign": [r[6] for r in rows],
        },
    )


def _dead_facts(rejected: list[Rejected], facts: Facts) -> None:
    """A record that broke the contract: the reason, its code and what is kept of it."""
    records = [r.record for r in rejected]
    facts.add(
        "dead_letter",
        len(rejected),
        {
            "kafka_topic": [r.topic for r in records],
            "kafka_partition": [r.partition for r in records],
            "kafka_offset": [r.offset for r in records],
            "kafka_timestamp": _clamped([r.timestamp_ms for r in records]),
            "reason": [str(r.error) for r in rejected],
            "code": [r.error.code for r in rejected],
            "original": [r.record.value for r in rejected],
            "original_size": [r.size for r in rejected],
            "original_sha256": [r.sha256 for r in rejected],
        },
    )


def finish_facts(
    flush: Flush,
    *,
    lags: Mapping[int, int],
    worker: str,
    now_ms: int,
    epochs: Mapping[int, int] | None = None,
) -> Facts:
    """The insert's rows: the flush's facts, one ``progress`` row per partition it touched
    (where the partition stands after it, and its counters), and on every row the writer's
    lease epoch on its partition (0 when it holds none)."""
    facts = flush.facts.copy()
    for p, st in sorted(flush.stats.items()):
        pp = flush.progress[p]
        facts.add(
            "progress",
            1,
            {
                "kafka_topic": [flush.topic],
                "kafka_partition": [p],
                "kafka_offset": [pp.offset],
                "kafka_timestamp": [now_ms],
                "watermark": [pp.watermark_ms],
                "events": [st.events],
                "dead": [st.dead],
                "duplicates": [st.duplicates],
                "late_events": [st.late],
                "lag": [lags.get(p, -1)],
                "worker": [worker],
            },
        )
    leased = epochs or {}
    # A block without partitions is partition 0's, the column's default.
    return facts.with_column(
        "epoch",
        lambda size, block: (
            [leased.get(p, 0) for p in block["kafka_partition"]]
            if "kafka_partition" in block
            else [leased.get(0, 0)] * size
        ),
    )


def finish(
    flush: Flush,
    *,
    lags: Mapping[int, int],
    worker: str,
    now_ms: int,
    epochs: Mapping[int, int] | None = None,
) -> list[list[Any]]:
    """:func:`finish_facts` as whole columns, in ``FACT_COLUMNS`` order (the worker sends the
    blocks as they are: ``streams.sinks.clickhouse.facts_insert``)."""
    return finish_facts(flush, lags=lags, worker=worker, now_ms=now_ms, epochs=epochs).columns()
