"""Customer-level metrics (issue 16): digital-to-call leakage and repeat contact, decided per
customer by event time, the same in any arrival order.

The worker's state is keyed by journey; these metrics need a customer's history across
journeys. The second stage keeps one :class:`CustomerState` per customer pseudonym (within a
tenant) and this module decides, event by event, what each new interaction changes. Pure: the
stage's agent (like the first stage's) owns Kafka, the store and ClickHouse.

Definitions (docs/customer-metrics.md, with the published figures they are measured against):

- A **digital touch** is the customer's own visit to the brand's site or app: an inbound
  ``touch`` on ``web``.
- An **assisted contact** is a call or a chat: an ``ivr_call``, an inbound ``touch`` on phone
  or chat, an inbound ``chatbot_session``.
- A **contact** is anything inbound but a digital touch: the assisted contacts, messages the
  customer sends (``message_received``), inbound touches on any other channel.
- A digital touch **leaked** when an assisted contact followed it within the leakage window
  (``JOURNEY_LEAKAGE_WINDOW``, 24 hours): ``0 <= contact - touch <= window``, by event time.
  An assisted contact **came after digital** when such a touch preceded it (Medallia: 58% of
  travel bookers later called, 15% after the site was fixed; 70% of a retailer's calls came
  from failed digital self-service).
- A contact is a **repeat** when the same customer's earlier contact is at most the repeat
  window (``JOURNEY_REPEAT_WINDOW``, 7 days) before it; a **same-reason repeat** when such an
  earlier contact gave the same ``contact_reason`` (Medallia: 22% of repeat calls relate to the
  issue of the original call), out of the **reasoned repeats**, where both gave one. A
  contact is **followed** when a repeat came after it: a contact never followed within the
  window was resolved at first contact.
- "Earlier" is by event time, and of two in the same millisecond the one whose event id
  hashes lower: never by arrival.

Every flag only ever turns on (a late event can make a touch leaked or a contact a repeat,
never the reverse), so each is counted once, when it turns on, in the cell and day of the
event it describes: the counts never need retracting, and any arrival order ends with the
same counts. Each entry and each flag keeps the offset of the record that set it, so a replay
can ask for the state as it was before a record (:func:`as_of`), as the journey state does.

A pseudonym changes when the pseudonymisation key rotates: a customer's events before and
after a rotation are two customers here, and pairs across it are lost. Each fact carries the
key id (``ph:<key id>:...``) so the queries can count the contacts within a window of a
rotation, the figure's own error bar.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import msgspec

from streams.decoder import Event
from streams.logic.journey_state import id_hash

if TYPE_CHECKING:
    from streams.settings import Settings

DAY_MS = 86_400_000
LEAKAGE_WINDOW_MS = DAY_MS  # JOURNEY_LEAKAGE_WINDOW's default
REPEAT_WINDOW_MS = 7 * DAY_MS  # JOURNEY_REPEAT_WINDOW's default
ASSISTED_TOUCH_CHANNELS = frozenset({"phone", "chat"})


@dataclass(frozen=True)
class Windows:
    """The two windows, in ms of event time."""

    leakage_ms: int = LEAKAGE_WINDOW_MS
    repeat_ms: int = REPEAT_WINDOW_MS

    def __post_init__(self) -> None:
        if self.leakage_ms <= 0 or self.repeat_ms <= 0:
            raise ValueError(f"windows must be positive: {self}")


def is_digital(event: Event) -> bool:
    """The customer's own visit to the site or app."""
    return event.kind == "touch" and event.channel == "web" and event.direction == "inbound"


def is_assisted(event: Event) -> bool:
    """A call or a chat the customer started."""
    kind = event.kind
    if kind == "ivr_call":
        return True
    if event.direction != "inbound":
        return False
    return kind == "chatbot_session" or (
        kind == "touch" and event.channel in ASSISTED_TOUCH_CHANNELS
    )


def is_contact(event: Event) -> bool:
    """Anything the customer started but a digital touch (receipts and the brand's own sends
    and calls are not the customer's)."""
    if is_digital(event):
        return False
    return event.kind in ("ivr_call", "message_received") or (
        event.kind in ("touch", "chatbot_session") and event.direction == "inbound"
    )


def is_own(event: Event) -> bool:
    """The customer's own event, what the customers stage counts: a digital touch or a
    contact (:func:`is_digital` or :func:`is_contact`, in one test for the ingest stage's
    per-record hand-over)."""
    kind = event.kind
    if kind in ("ivr_call", "message_received"):
        return True
    return kind in ("touch", "chatbot_session") and event.direction == "inbound"


def windows_of(settings: Settings) -> Windows | None:
    """The customers stage's windows (JOURNEY_LEAKAGE_WINDOW, JOURNEY_REPEAT_WINDOW) when the
    worker runs it (JOURNEY_CUSTOMER_STAGE), else None."""
    if not settings.customer_stage:
        return None
    return Windows(settings.leakage_window_ms, settings.repeat_window_ms)


def key_id(pseudonym: str) -> str:
    """The pseudonymisation key's id in ``ph:<key id>:<hash>`` ('' for anything else)."""
    parts = pseudonym.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "ph" else ""


# Stored as MessagePack arrays, like the journey state: a field added at the end with a default
# keeps every stored state readable. A flag is the offset of the record that set it, -1 unset.
class Cell(msgspec.Struct, array_like=True, frozen=True):
    """Where an event is counted."""

    tenant: str
    industry: str
    use_case: str
    channel: str
    kind: str
    reason: str  # contact_reason, '' when not given


class Touch(msgspec.Struct, array_like=True):
    """A digital touch, and whether (from which offset) an assisted contact followed it."""

    offset: int
    ms: int
    key: int  # event id hash: the order of two in the same millisecond
    cell: Cell
    leaked: int = -1


class Contact(msgspec.Struct, array_like=True):
    """A contact and its flags (``after_digital`` only for an assisted one)."""

    offset: int
    ms: int
    key: int
    cell: Cell
    assisted: bool
    after_digital: int = -1
    repeat: int = -1
    same_reason: int = -1
    followed: int = -1
    reasoned_repeat: int = -1  # a repeat of a contact that gave a reason, giving one itself


class CustomerState(msgspec.Struct, array_like=True):
    """What the second stage remembers of one customer: the ids of the events it counted
    (hash -> offset; the same as its entries' keys, kept apart for a fast look-up), its
    digital touches and its contacts, each list in event-time order."""

    h: int = -1  # the highest offset that wrote to it
    t: int = 0  # the latest event time (for expiry)
    events: dict[int, int] = msgspec.field(default_factory=dict)
    touches: list[Touch] = msgspec.field(default_factory=list)
    contacts: list[Contact] = msgspec.field(default_factory=list)


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(CustomerState).decode


def encode(state: CustomerState) -> bytes:
    """The stored form of a state."""
    return _encode(state)


def decode(raw: bytes | None) -> CustomerState:
    """A stored state, or a new one for ``None``."""
    return CustomerState() if raw is None else _decode(raw)


@dataclass(frozen=True, slots=True)
class Fact:
    """One count the rollup adds: ``measure`` turned on for the event at ``ms`` in ``cell``
    (always +1: flags only turn on), written by the record at ``offset``."""

    measure: str  # one of MEASURES
    ms: int
    cell: Cell
    key_id: str
    offset: int


MEASURES = (
    "digital", "leaked", "contact", "assisted", "after_digital", "reasoned", "repeat",
    "reasoned_repeat", "same_reason_repeat", "followed",
)  # fmt: skip


def _order(entry: Touch | Contact) -> tuple[int, int]:
    return entry.ms, entry.key


_E = TypeVar("_E", Touch, Contact)


def _insert(entries: list[_E], entry: _E) -> None:
    entries.insert(bisect_right(entries, _order(entry), key=_order), entry)


def _within(entries: list[_E], low_ms: int, high_ms: int) -> list[_E]:
    """The entries with ``low_ms <= ms <= high_ms``."""
    lo = bisect_left(entries, low_ms, key=lambda e: e.ms)
    hi = bisect_right(entries, high_ms, key=lambda e: e.ms)
    return entries[lo:hi]


def apply(
    state: CustomerState,
    event: Event,
    ms: int,
    offset: int,
    windows: Windows,
    out: list[Fact],
) -> bool:
    """Apply one event to its customer's state, appending the counts it turns on to ``out``.
    Returns False for an event already counted (its id seen: a duplicate, or the first
    stage's at-least-once write to the repartition topic)."""
    if not is_own(event):
        return True  # not the customer's own: nothing to count, nothing to remember
    digital = is_digital(event)
    key = id_hash(event.event_id.encode())
    if key in state.events:
        return False
    state.events[key] = offset
    state.h = max(state.h, offset)
    state.t = max(state.t, ms)
    cell = Cell(
        event.tenant, event.industry, event.use_case, event.channel, event.kind,
        event.contact_reason or "",
    )  # fmt: skip
    kid = key_id(event.customer_id)

    def count(measure: str, at_ms: int, where: Cell) -> None:
        out.append(Fact(measure, at_ms, where, kid, offset))

    if digital:
        touch = Touch(offset, ms, key, cell)
        _insert(state.touches, touch)
        count("digital", ms, cell)
        # Assisted contacts within the window after it: it leaked, and they came after digital.
        for c in _within(state.contacts, ms, ms + windows.leakage_ms):
            if c.assisted:
                _leak(touch, c, offset, count)
        return True

    assisted = is_assisted(event)
    new = Contact(offset, ms, key, cell, assisted)
    count("contact", ms, cell)
    if assisted:
        count("assisted", ms, cell)
    if cell.reason:
        count("reasoned", ms, cell)
    if assisted:
        for t in _within(state.touches, ms - windows.leakage_ms, ms):
            _leak(t, new, offset, count)
    order = (ms, key)
    # Contacts within the window on either side: the earlier of each pair (by time, then id)
    # makes the later a repeat.
    for c in _within(state.contacts, ms - windows.repeat_ms, ms + windows.repeat_ms):
        earlier, later = (c, new) if _order(c) < order else (new, c)
        _repeat(earlier, later, offset, count)
    _insert(state.contacts, new)
    return True


Count = Callable[[str, int, Cell], None]


def _leak(touch: Touch, contact: Contact, offset: int, count: Count) -> None:
    """``contact`` (a call or chat) came within the window after ``touch``: set what that turns
    on."""
    if touch.leaked < 0:
        touch.leaked = offset
        count("leaked", touch.ms, touch.cell)
    if contact.after_digital < 0:
        contact.after_digital = offset
        count("after_digital", contact.ms, contact.cell)


def _repeat(earlier: Contact, later: Contact, offset: int, count: Count) -> None:
    """``later`` is a repeat of ``earlier`` (within the window): set what that turns on."""
    if later.repeat < 0:
        later.repeat = offset
        count("repeat", later.ms, later.cell)
    if later.cell.reason and earlier.cell.reason:  # both say why: the reasons compare
        if later.reasoned_repeat < 0:
            later.reasoned_repeat = offset
            count("reasoned_repeat", later.ms, later.cell)
        if later.same_reason < 0 and later.cell.reason == earlier.cell.reason:
            later.same_reason = offset
            count("same_reason_repeat", later.ms, later.cell)
    if earlier.followed < 0:
        earlier.followed = offset
        count("followed", earlier.ms, earlier.cell)


def as_of(state: CustomerState, offset: int) -> CustomerState:
    """The state as it was before ``offset`` was processed: entries written at or after it
    dropped, flags set at or after it unset (a pass whose insert never reached ClickHouse)."""
    if state.h < offset:
        return state

    def flag(value: int) -> int:
        return value if value < offset else -1

    touches = [
        Touch(t.offset, t.ms, t.key, t.cell, flag(t.leaked))
        for t in state.touches
        if t.offset < offset
    ]
    contacts = [_contact_as_of(c, flag) for c in state.contacts if c.offset < offset]
    events = {k: o for k, o in state.events.items() if o < offset}
    # The latest event time too is what it was then (the sweep expires a customer by it).
    latest = max(max((t.ms for t in touches), default=0), max((c.ms for c in contacts), default=0))
    return CustomerState(max(events.values(), default=-1), latest, events, touches, contacts)


def _contact_as_of(c: Contact, flag: Callable[[int], int]) -> Contact:
    return Contact(
        c.offset, c.ms, c.key, c.cell, c.assisted, flag(c.after_digital), flag(c.repeat),
        flag(c.same_reason), flag(c.followed), flag(c.reasoned_repeat),
    )  # fmt: skip
