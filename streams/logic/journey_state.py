"""The state the worker keeps per journey, and its compact binary form.

One journey's state answers three questions for the records that follow: has this event id
been counted (de-duplication), which channels has the journey used and where did it start
(journeys and channels per journey), and which message sends and read signals wait for their
other half (read pairs). Every entry carries the Kafka offset of the record that wrote it, so a
replay can ask for the state *as it was* before a record (``as_of``): the state may be ahead of
ClickHouse (written before an insert that never landed), never behind it.

"First" always means first by event time, never first to arrive: a journey's first event, a
message's send, its first read signal and its first reply are each the *earliest* by
``occurred_at``, and of two in the same millisecond the one whose counted fields sort first
(``earliest`` in streams/logic/aggregate.py): the answer does not depend on the order the
events arrive in. An entry that a later-arriving, earlier event displaces is kept in a short
list beside it (``firsts``, ``sends``, ``reads``, ``replies``), so ``as_of`` can restore it
for a replay; those lists are empty (one byte each) when events arrive in order.

Stored as MessagePack arrays (msgspec, encoded and decoded in C), keyed by the journey id in
the worker's RocksDB store and its changelog topic. Event and message ids are kept as 64-bit
XXH3 hashes: for a journey of n distinct ids the chance that two share a hash is at most
n(n-1)/2 / 2**64, about 2.7e-16 for 100 ids and 2.7e-14 for 1,000, so a collision (an event
wrongly taken for a duplicate of another of the same journey) is not expected in the life of
the product: 10 billion events a year in journeys of ten is about 5e-5 a century.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import msgspec
import xxhash

id_hash = xxhash.xxh3_64_intdigest


# Every struct is stored as an array: a field added at the end with a default keeps every
# stored state readable.


class Send(msgspec.Struct, array_like=True):
    """A message send waiting for (or joined with) its first read signal."""

    offset: int
    sent_ms: int
    purpose: str
    channel: str
    tenant: str
    industry: str
    use_case: str
    reply_enabled: bool = False  # contract 1.1: the customer can answer it


class Read(msgspec.Struct, array_like=True):
    """A message's first read signal, or its first reply (a ``reply_proxy`` receipt, or the
    customer's own message, ``signal`` = ``message_received``)."""

    offset: int
    read_ms: int
    signal: str


class Message(msgspec.Struct, array_like=True):
    """The two halves of a read pair, either may come first; and the first reply to the
    message (a ``reply_proxy`` signal, read first or not), which with the send makes a replied
    send. (A state stored before replies were kept decodes with ``reply`` None.)

    ``sends``, ``reads`` and ``replies`` hold what an earlier event displaced, in the order it
    happened (offsets rising), so ``as_of`` can restore it."""

    send: Send | None = None
    read: Read | None = None
    reply: Read | None = None
    sends: list[Send] = msgspec.field(default_factory=list)
    reads: list[Read] = msgspec.field(default_factory=list)
    replies: list[Read] = msgspec.field(default_factory=list)


_NOTHING = Message()


class Opening(msgspec.Struct, array_like=True):
    """A customer's message in a social or chat conversation (contract 1.1): the earliest one
    opens the conversation, and its cell is where the conversation is counted."""

    offset: int
    ms: int
    tenant: str
    industry: str
    use_case: str
    channel: str


class Conversation(msgspec.Struct, array_like=True):
    """A social or chat conversation of the journey: its opening (the customer's earliest
    message) and what that displaced, and the brand's replies in it, each ``(offset, time)``.
    Its first response is the earliest reply at or after the opening, derived, never stored:
    an earlier opening arriving late may make an earlier reply the first response."""

    opening: Opening | None = None
    openings: list[Opening] = msgspec.field(default_factory=list)
    replies: list[tuple[int, int]] = msgspec.field(default_factory=list)

    def first_response_ms(self) -> int | None:
        """When the brand first answered the opening (None: not yet)."""
        if self.opening is None:
            return None
        start = self.opening.ms
        return min((ms for _, ms in self.replies if ms >= start), default=None)


class First(msgspec.Struct, array_like=True):
    """The journey's earliest event: where (which hour and cell) the journey is counted."""

    offset: int
    occurred_ms: int
    tenant: str
    industry: str
    use_case: str


class JourneyState(msgspec.Struct, array_like=True):
    """Everything the worker remembers of one journey.

    ``h`` is the highest offset that wrote to it (how far it has seen: recovery keeps, per
    journey, the state that has seen the most), ``t`` the latest event time (for expiry).
    ``events`` maps event-id hash to the offset that counted it, ``channels`` each channel to
    the offset that first used it, ``messages`` message-id hash to its send and read,
    ``firsts`` the earliest events that an even earlier one displaced (offsets rising),
    ``conversations`` conversation-id hash to its opening and the brand's replies."""

    h: int = -1
    t: int = 0
    events: dict[int, int] = msgspec.field(default_factory=dict)
    channels: dict[str, int] = msgspec.field(default_factory=dict)
    first: First | None = None
    messages: dict[int, Message] = msgspec.field(default_factory=dict)
    firsts: list[First] = msgspec.field(default_factory=list)
    conversations: dict[int, Conversation] = msgspec.field(default_factory=dict)


class _Head(msgspec.Struct, array_like=True):
    """The first two fields only: what recovery and the expiry sweep need."""

    h: int = -1
    t: int = 0


_encode = msgspec.msgpack.Encoder().encode
_decode_state = msgspec.msgpack.Decoder(JourneyState).decode
_decode_head = msgspec.msgpack.Decoder(_Head).decode


def encode(state: JourneyState) -> bytes:
    """The stored form of a state."""
    return _encode(state)


def decode(raw: bytes | None) -> JourneyState:
    """A stored state, or a new one for ``None``."""
    return JourneyState() if raw is None else _decode_state(raw)


def head(raw: bytes) -> tuple[int, int]:
    """``(h, t)`` of a stored state, without decoding the rest."""
    head = _decode_head(raw)
    return head.h, head.t


def supersedes(incoming: bytes | None, current: bytes | None) -> bool:
    """Whether a changelog entry replaces the state held for its journey on recovery.

    A state only moves forward (its ``h``, the highest offset it has seen, grows), except when
    a worker that lost the partition wakes up and writes an older one after the new owner's:
    that stale entry must not win. Deletions (the expiry sweep) always apply."""
    if incoming is None or current is None:
        return True
    return head(incoming)[0] >= head(current)[0]


class _Versioned(Protocol):
    offset: int


_V = TypeVar("_V", bound=_Versioned)


def _before(current: _V | None, displaced: list[_V], offset: int) -> tuple[_V | None, list[_V]]:
    """The entry in force before ``offset`` and the ones it had displaced (``displaced`` and
    then ``current`` were written at rising offsets)."""
    if current is None or current.offset < offset:
        return current, displaced
    kept = [v for v in displaced if v.offset < offset]
    return (kept[-1], kept[:-1]) if kept else (None, [])


def as_of(state: JourneyState, offset: int) -> JourneyState:
    """The state as it was before ``offset`` was processed (entries written at or after it,
    by a pass whose insert never reached ClickHouse, are dropped, and what they displaced is
    restored)."""
    if state.h < offset:
        return state
    messages: dict[int, Message] = {}
    for key, message in state.messages.items():
        send, sends = _before(message.send, message.sends, offset)
        read, reads = _before(message.read, message.reads, offset)
        reply, replies = _before(message.reply, message.replies, offset)
        kept = Message(send, read, reply, sends, reads, replies)
        if kept != _NOTHING:
            messages[key] = kept
    events = {k: o for k, o in state.events.items() if o < offset}
    first, firsts = _before(state.first, state.firsts, offset)
    conversations: dict[int, Conversation] = {}
    for key, conversation in state.conversations.items():
        opening, openings = _before(conversation.opening, conversation.openings, offset)
        answers = [answer for answer in conversation.replies if answer[0] < offset]
        if opening is not None or answers:
            conversations[key] = Conversation(opening, openings, answers)
    return JourneyState(
        h=max(events.values(), default=-1),
        t=state.t,
        events=events,
        channels={k: o for k, o in state.channels.items() if o < offset},
        first=first,
        messages=messages,
        firsts=firsts,
        conversations=conversations,
    )


@dataclass(frozen=True)
class Expiry:
    """When a journey's state may be forgotten: no event of it within ``ttl_ms`` of event time
    before the partition's watermark."""

    ttl_ms: int

    def expired(self, raw: bytes, watermark_ms: int) -> bool:
        """Whether the stored state ``raw`` has expired at ``watermark_ms``."""
        return watermark_ms - head(raw)[1] > self.ttl_ms


def from_json(old: dict[str, Any]) -> JourneyState:
    """A state as the worker stored it before 0.2 (a JSON object with ids in full)."""
    messages: dict[int, Message] = {}
    for message_id, parts in old.get("m", {}).items():
        send = Send(*parts["s"]) if "s" in parts else None
        read = Read(*parts["r"]) if "r" in parts else None
        messages[id_hash(message_id.encode())] = Message(send, read)
    first = old.get("f")
    return JourneyState(
        h=int(old["h"]),
        t=int(old["t"]),
        events={id_hash(k.encode()): int(o) for k, o in old.get("e", {}).items()},
        channels={k: int(o) for k, o in old.get("c", {}).items()},
        first=First(*first) if first is not None else None,
        messages=messages,
    )


class MemoryStates:
    """Journey states in a dict, stored as the worker stores them (tests, the benchmark's
    peer, ``journey verify``'s model runs): ``load`` for ``plan_flush``, ``save`` after it."""

    def __init__(self) -> None:
        self.data: dict[tuple[int, str], bytes] = {}

    def load(self, partition: int, journey_ids: Sequence[str]) -> list[bytes | None]:
        """The stored state of each journey (None if unknown)."""
        return [self.data.get((partition, j)) for j in journey_ids]

    def save(self, states: Mapping[int, Mapping[str, JourneyState]]) -> None:
        """Store the states a flush changed."""
        for partition, changed in states.items():
            for journey_id, state in changed.items():
                self.data[(partition, journey_id)] = encode(state)
