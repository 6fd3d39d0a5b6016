"""The event contract compiled into one decoder, shared by the worker, the publisher and verify.

``streams.events`` declares the fields; this module turns them into msgspec types, one per
kind, tagged by ``kind`` exactly as the JSON Schema's ``oneOf`` branches are, so decoding and
validating an event is one call into C (``decode``). Rules across fields that a type cannot
state (the receipt's read signal, the version, the day of the month, the future bound) follow
in a few lines of Python.

A rejected document is explained by the reference checks (``explain``): plain Python, field by
field, in the order a person reads an event, giving the reasons and codes the dead letters and
the publisher's rejects have always carried. They run only for rejected records.
``tests/unit/test_contract_agreement.py`` proves the JSON Schema, ``decode`` and ``explain``
accept exactly the same documents.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, Union, cast

import msgspec

from streams.events import (
    COMMON_FIELDS,
    EMPTY_VALUES,
    KIND_CHANNELS,
    KIND_CONDITIONS,
    KIND_DIRECTION,
    KIND_FIELDS,
    KIND_SPECIFIC_FIELDS,
    MAX_EVENT_BYTES,
    MAX_NESTING,
    PSEUDONYM_PATTERN,
    SCHEMA_VERSION,
    SLUG_PATTERN,
    TIME_PATTERN,
    ContractError,
    FieldSpec,
    format_ms,
    parse_time,
    python_pattern,
    utc_ms,
)

if TYPE_CHECKING:
    from streams.publish.pseudonymise import Pseudonymiser


class Event(Protocol):
    """A decoded event: every field of the contract (kind-specific fields a kind does not
    carry read as empty: ``""``, ``0.0`` or ``False``). ``occurred_at`` is the text as sent;
    its UTC milliseconds come beside the event from :func:`decode`."""

    event_id: str
    schema_version: float
    kind: str
    occurred_at: str
    tenant: str
    industry: str
    use_case: str
    channel: str
    journey_id: str
    customer_id: str
    direction: str
    duration_s: float
    outcome: str
    purpose: str
    message_id: str
    status: str
    read_signal: str | None
    handed_off: bool
    # 1.1: absent (None) where the event leaves them out or its kind lacks them
    agent_requested: bool | None
    exit_reason: str | None
    contact_reason: str | None
    reply_enabled: bool | None
    error_code: str | None
    handoff_requested: bool | None
    resolved: bool | None
    in_reply_to: str | None
    conversation_id: str | None


# ---- the compiled types --------------------------------------------------------------------
def _annotation(spec: FieldSpec, kind: str, customer_in_clear: bool) -> Any:
    """The msgspec type of one field of one kind."""
    if spec.name == "channel" and kind in KIND_CHANNELS:
        return Literal[KIND_CHANNELS[kind]]
    if spec.name == "direction" and kind in KIND_DIRECTION:
        return Literal[(KIND_DIRECTION[kind],)]
    if spec.enum is not None:
        return Literal[spec.enum]
    if spec.type == "string":
        if spec.sensitive and customer_in_clear:  # the publisher pseudonymises it first
            return Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
        # Patterns are matched all at once by _checked (one regex call, not five).
        return Annotated[str, msgspec.Meta(min_length=1, max_length=spec.max_length)]
    if spec.type == "timestamp":
        return Annotated[str, msgspec.Meta(max_length=40)]
    if spec.type == "boolean":
        return bool
    # Numbers, and the integer schema_version: JSON Schema counts 1.0 as an integer, so a float
    # is read here and its integrality checked by the rules below.
    upper = spec.maximum if spec.type == "number" else None
    return Annotated[float, msgspec.Meta(ge=spec.minimum, le=upper)]


def _kind_type(
    kind: str, customer_in_clear: bool, no_extra_fields: bool = False
) -> type[msgspec.Struct]:
    specs = [s for s in COMMON_FIELDS if s.name != "kind"] + list(KIND_FIELDS[kind])
    fields: list[Any] = []
    for spec in specs:
        annotation = _annotation(spec, kind, customer_in_clear)
        if spec.required:
            fields.append((spec.name, annotation))
        else:  # absent or null: None
            fields.append((spec.name, annotation | None, None))
    # The fields of other kinds, as class attributes: every event reads alike.
    own = {s.name for s in specs}
    namespace: dict[str, Any] = {"kind": kind}
    namespace |= {
        s.name: EMPTY_VALUES[s.type] if s.required else None
        for s in KIND_SPECIFIC_FIELDS
        if s.name not in own
    }
    name = "".join(part.title() for part in kind.split("_")) + (
        "Input" if customer_in_clear else ""
    )
    return msgspec.defstruct(
        name,
        fields,
        tag_field="kind",
        tag=kind,
        namespace=namespace,
        omit_defaults=True,
        kw_only=True,
        forbid_unknown_fields=no_extra_fields,
        # Only strings, numbers and booleans inside: never part of a cycle, so the garbage
        # collector need not track (and walk) the hundreds of thousands a flush makes.
        gc=False,
    )


KIND_TYPES: dict[str, type[msgspec.Struct]] = {k: _kind_type(k, False) for k in KIND_FIELDS}
_INPUT_TYPES = [_kind_type(k, True) for k in KIND_FIELDS]
EVENT_TYPE: Any = Union[tuple(KIND_TYPES.values())]  # noqa: UP007 (a runtime union of types)
_DECODER = msgspec.json.Decoder(EVENT_TYPE)
# The same types refusing any field the contract does not name: an event that passes them has
# no field msgspec skips unread, so no byte of it escaped UTF-8 validation and nothing in it is
# nested (canonical events, journey publish's output, always pass). Others take the tolerant
# path: the checks of _precheck, then _DECODER.
_EXACT_DECODER = msgspec.json.Decoder(
    Union[tuple(_kind_type(k, False, no_extra_fields=True) for k in KIND_FIELDS)]  # noqa: UP007
)
_INPUT_TYPE: Any = Union[tuple(_INPUT_TYPES)]  # noqa: UP007
_INPUT_DECODER = msgspec.json.Decoder(_INPUT_TYPE)
_EXACT_INPUT_DECODER = msgspec.json.Decoder(
    Union[tuple(_kind_type(k, True, no_extra_fields=True) for k in KIND_FIELDS)]  # noqa: UP007
)
_ENCODER = msgspec.json.Encoder()
_REJECTED = (msgspec.DecodeError, ValueError, UnicodeDecodeError)


# ---- the rules a type cannot state, checked fast ---------------------------------------------
# Each pattern of the contract has a check equivalent to it (``tests/unit/test_decoder.py``
# proves each against its regex); where values repeat (tenants, customers) a bounded cache
# of values already found valid answers first.
_SLUG = re.compile(python_pattern(SLUG_PATTERN))
_PSEUDONYM = re.compile(python_pattern(PSEUDONYM_PATTERN))
_TIME = re.compile(python_pattern(TIME_PATTERN))
_VALID_SLUGS: set[str] = set()
_CACHE_LIMIT = 1_000  # tenants: a brand has one


def is_id(value: str) -> bool:
    """``ID_PATTERN`` (1 to 128 printable ASCII characters, no space; msgspec checks the
    length): printable ASCII is 0x20-0x7e, so without a space it is 0x21-0x7e."""
    return value.isascii() and value.isprintable() and " " not in value


def _cached(pattern: re.Pattern[str], valid: set[str]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        if value in valid:
            return True
        if pattern.match(value) is None:
            return False
        if len(valid) >= _CACHE_LIMIT:
            valid.clear()
        valid.add(value)
        return True

    return check


is_slug = _cached(_SLUG, _VALID_SLUGS)


def is_pseudonym(value: str) -> bool:
    """``PSEUDONYM_PATTERN``. Not cached: customer ids are many, and a cache of them would
    keep memory the decoded records of every flush once used."""
    return _PSEUDONYM.match(value) is not None


# The patterned fields and their checks: the decoder refuses to load if the contract gains a
# patterned field it does not check here.
FIELD_CHECKS: dict[str, Callable[[str], bool]] = {
    "event_id": is_id,
    "journey_id": is_id,
    "message_id": is_id,
    "tenant": is_slug,
    "customer_id": is_pseudonym,
    "error_code": is_id,
    "in_reply_to": is_id,
    "conversation_id": is_id,
    "contact_reason": is_slug,
}
_PATTERNED = {s.name for s in (*COMMON_FIELDS, *KIND_SPECIFIC_FIELDS) if s.pattern is not None}
if _PATTERNED - set(FIELD_CHECKS) - {"occurred_at"}:
    raise RuntimeError(f"no fast check for the patterned fields {_PATTERNED - set(FIELD_CHECKS)}")
_MESSAGE_KINDS = frozenset(
    k for k, specs in KIND_FIELDS.items() if "message_id" in {s.name for s in specs}
)


def _kind_rule(kind: str) -> Callable[[Any], bool] | None:
    """The rules of one kind beyond its types: its optional patterned fields match their
    patterns when present, and each conditional field (``KIND_CONDITIONS``) is present only
    where its condition holds (and there, if required, present). None when there are none."""
    patterned = tuple(
        (s.name, FIELD_CHECKS[s.name])
        for s in KIND_FIELDS[kind]
        if s.pattern is not None and not s.required
    )
    conditions = tuple(
        (c.name, c.field, frozenset(c.values), c.required) for c in KIND_CONDITIONS.get(kind, ())
    )
    if not patterned and not conditions:
        return None
    # Most events leave out every field these rules watch; then, unless a condition requires
    # one, nothing is left to check: one read of them all, not a loop of reads (the rules
    # were a sixth of the decode, almost all of it for touches without any, 2026-12-07).
    names = tuple(dict.fromkeys([n for n, _ in patterned] + [c[0] for c in conditions]))
    read = attrgetter(*names)
    nothing = None if len(names) == 1 else (None,) * len(names)
    any_required = any(required for *_, required in conditions)

    def holds(event: Any) -> bool:
        if not any_required and read(event) == nothing:
            return True
        for name, check in patterned:
            value = getattr(event, name)
            if value is not None and not check(value):
                return False
        for name, field, values, required in conditions:
            present = getattr(event, name) is not None
            if getattr(event, field) in values:
                if required and not present:
                    return False
            elif present:
                return False
        return True

    return holds


_KIND_RULES: dict[str, Callable[[Any], bool]] = {
    kind: rule for kind in KIND_FIELDS if (rule := _kind_rule(kind)) is not None
}


def _valid_fields(event: Any, customer_checked: bool = False) -> bool:
    """Every patterned field of ``event`` matches its pattern (the time: :func:`_time_ms`);
    ``customer_checked``: the customer id is known to be a pseudonym already."""
    return (
        is_id(event.event_id)
        and is_id(event.journey_id)
        and is_slug(event.tenant)
        and (customer_checked or is_pseudonym(event.customer_id))
        and (event.kind not in _MESSAGE_KINDS or is_id(event.message_id))
    )


def _time_ms(text: str) -> int:
    """The UTC milliseconds of an event time, ValueError unless it matches ``TIME_PATTERN``
    and names a real day. The canonical form is read with lookups only."""
    if len(text) == 24 and text[23] == "Z" and text[19] == "." and text[13] == ":":
        day = _DAY_MS.get(text[:11])
        hour = _HOUR_MS.get(text[11:13])
        minute_second = _MINUTE_SECOND_MS.get(text[13:19])
        millis = _MILLIS.get(text[20:23])
        if None not in (day, hour, minute_second, millis):
            return day + hour + minute_second + millis  # type: ignore[operator]
    if _TIME.match(text) is None:
        raise ValueError("time")
    return utc_ms(text)  # ValueError for a day its month lacks


def _days(first: date, last: date) -> dict[str, int]:
    """``"YYYY-MM-DDT"`` of every day from ``first`` to ``last`` -> its first millisecond."""
    out = {}
    epoch = date(1970, 1, 1).toordinal()
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        out[f"{day.isoformat()}T"] = (ordinal - epoch) * 86_400_000
    return out


# Lookup tables for the canonical form, made once: nothing is added to them while events are
# decoded (a table that grew with the records would keep alive the memory of every flush).
_DAY_MS = _days(date(2000, 1, 1), date(2099, 12, 31))
_HOUR_MS = {f"{h:02d}": h * 3_600_000 for h in range(24)}
_MINUTE_SECOND_MS = {f":{m:02d}:{s:02d}": (m * 60 + s) * 1000 for m in range(60) for s in range(60)}
_MILLIS = {f"{n:03d}": n for n in range(1000)}


def _checked(event: Any, not_after_ms: int | None, customer_checked: bool = False) -> int:
    """The rules a type cannot state; ValueError when one is broken (``explain`` says how)."""
    if event.schema_version != SCHEMA_VERSION:  # 1.0 is 1; else newer, or not an integer
        raise ValueError("version")
    rule = _KIND_RULES.get(event.kind)
    if rule is not None and not rule(event):
        raise ValueError("kind rule")
    if not _valid_fields(event, customer_checked):
        raise ValueError("pattern")
    ms = _time_ms(event.occurred_at)
    if not_after_ms is not None and ms > not_after_ms:
        raise ValueError("future")
    return ms


def _precheck(value: bytes) -> None:
    """What msgspec does not check: size, UTF-8 of skipped fields, nesting (ValueError)."""
    if len(value) > MAX_EVENT_BYTES:
        raise ValueError("too large")
    if not value.isascii():
        value.decode("utf-8")  # msgspec does not check the bytes of fields it skips
    if too_deep(value):
        raise ValueError("nested too deeply")


# ---- decoding ------------------------------------------------------------------------------
def decode(value: bytes, not_after_ms: int | None = None) -> tuple[Event, int]:
    """Decode and validate one event; return it with its time in UTC milliseconds.

    ``not_after_ms`` bounds the event time (the worker passes the Kafka record's timestamp +
    1 day, so a replay decides exactly as the first pass; the publisher passes now + 1 day).
    Raises ContractError with the reference reason."""
    try:
        _precheck(value)
        event = _DECODER.decode(value)
        ms = _checked(event, not_after_ms)
    except _REJECTED as exc:
        why = f"{type(exc).__name__}: {exc}"
    else:
        return cast(Event, event), ms
    raise _reason(value, not_after_ms, why)


@dataclass(slots=True)
class Decoded:
    """The records of a batch as :func:`decode_batch` found them, as parallel lists."""

    indexes: list[int]  # of the valid records
    events: list[Event]
    times: list[int]  # their occurred_at, UTC ms
    rejected: list[tuple[int, ContractError]]


def decode_batch(values: Sequence[bytes], not_after_ms: Sequence[int], start: int = 0) -> Decoded:
    """:func:`decode` for ``values[start:]`` (with their bounds). The worker's hot path: the
    loop of :func:`decode` and its checks written out, without a call or an object per
    record (each check is :func:`_checked`'s, inlined)."""
    out = Decoded([], [], [], [])
    add_index, add_event, add_time = out.indexes.append, out.events.append, out.times.append
    failed: list[tuple[int, str]] = []
    decode_exact, decode_json = _EXACT_DECODER.decode, _DECODER.decode
    days, hours, minutes, millis = _DAY_MS, _HOUR_MS, _MINUTE_SECOND_MS, _MILLIS
    slugs, message_kinds, pseudonym = _VALID_SLUGS, _MESSAGE_KINDS, _PSEUDONYM.match
    version, kind_rules = SCHEMA_VERSION, _KIND_RULES
    for i in range(start, len(values)):
        value = values[i]
        try:
            if len(value) > MAX_EVENT_BYTES:
                raise ValueError("too large")
            try:
                event = decode_exact(value)
            except (msgspec.DecodeError, UnicodeDecodeError):  # extra fields, or broken
                _precheck(value)
                event = decode_json(value)
            kind = event.kind
            if event.schema_version != version:
                raise ValueError("version")
            rule = kind_rules.get(kind)
            if rule is not None and not rule(event):
                raise ValueError("kind rule")
            eid, jid = event.event_id, event.journey_id
            if not (
                eid.isascii()
                and eid.isprintable()
                and " " not in eid
                and jid.isascii()
                and jid.isprintable()
                and " " not in jid
                and (event.tenant in slugs or is_slug(event.tenant))
                and pseudonym(event.customer_id) is not None
                and (kind not in message_kinds or is_id(event.message_id))
            ):
                raise ValueError("pattern")
            text = event.occurred_at
            ms = -1
            if len(text) == 24 and text[23] == "Z" and text[19] == ".":
                day = days.get(text[:11])
                hour = hours.get(text[11:13])
                minute_second = minutes.get(text[13:19])
                milli = millis.get(text[20:23])
                if (
                    day is not None
                    and hour is not None
                    and minute_second is not None
                    and milli is not None
                ):
                    ms = day + hour + minute_second + milli
            if ms < 0:
                ms = _time_ms(text)
            if ms > not_after_ms[i]:
                raise ValueError("future")
        except Exception as exc:  # anything at all about one record is its rejection
            failed.append((i, f"{type(exc).__name__}: {exc}"))
            continue
        add_index(i)
        add_event(event)
        add_time(ms)
    # Explained here, not in the handler: an error made while another is handled would keep
    # that one, its traceback and this frame alive (a cycle only the collector breaks).
    out.rejected = [(i, _reason(values[i], not_after_ms[i], why)) for i, why in failed]
    return out


def validate(obj: Any, not_after_ms: int | None = None) -> tuple[Event, int]:
    """:func:`decode` for an event already read into Python objects (a CSV row, an API call)."""
    try:
        event = msgspec.convert(obj, EVENT_TYPE)
        ms = _checked(event, not_after_ms)
    except (msgspec.ValidationError, ValueError, TypeError) as exc:
        raise explain(obj, not_after_ms) or _undecided(f"{type(exc).__name__}: {exc}") from None
    return cast(Event, event), ms


def decode_input(
    value: bytes | Mapping[str, Any],
    pseudonymise: Pseudonymiser,
    not_after_ms: int | None,
) -> tuple[Event, int]:
    """The publisher's decoding: like :func:`decode` (or :func:`validate` for a mapping), but
    the customer id may come in clear (at most 256 characters): it is pseudonymised before the
    rules are checked. The event returned carries the pseudonym."""
    try:
        if isinstance(value, bytes):
            if len(value) > MAX_EVENT_BYTES:
                raise ValueError("too large")
            try:  # only the contract's fields: nothing skipped unread, so no precheck needed
                event: Any = _EXACT_INPUT_DECODER.decode(value)
            except (msgspec.DecodeError, UnicodeDecodeError):  # extra fields, or broken
                _precheck(value)
                event = _INPUT_DECODER.decode(value)
        else:
            event = msgspec.convert(value, _INPUT_TYPE)
        # In place: the struct was made here. A Pseudonymiser returns pseudonyms only (its own
        # HMACs, or ids that already match the contract's pattern), so it is not checked again.
        event.customer_id = pseudonymise(event.tenant, event.customer_id)
        ms = _checked(event, not_after_ms, customer_checked=True)
    except (*_REJECTED, msgspec.ValidationError, TypeError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    else:
        return cast(Event, event), ms
    obj = _load(value) if isinstance(value, bytes) else value
    raise explain(_pseudonymised(obj, pseudonymise), not_after_ms) or _undecided(why)


def _pseudonymised(obj: Any, pseudonymise: Pseudonymiser) -> Any:
    if isinstance(obj, Mapping):
        customer, tenant = obj.get("customer_id"), obj.get("tenant")
        if isinstance(customer, str) and customer and isinstance(tenant, str):
            if len(customer) > 256:
                raise ContractError("must be at most 256 characters", "customer_id")
            return {**obj, "customer_id": pseudonymise(tenant, customer)}
    return obj


def canonical(event: Event, ms: int) -> bytes:
    """The event as the contract's canonical compact JSON: only its kind's fields, the time in
    UTC with milliseconds and a ``Z``, ``schema_version`` an integer, absent optional fields
    left out, unknown fields dropped."""
    text = event.occurred_at
    if not (len(text) == 24 and text[19] == "." and text[23] == "Z"):  # else canonical already
        text = format_ms(ms)
    elif type(event.schema_version) is int and event.schema_version == SCHEMA_VERSION:
        return _ENCODER.encode(event)  # canonical as it is: no copy to make
    normal = msgspec.structs.replace(
        cast(Any, event), occurred_at=text, schema_version=SCHEMA_VERSION
    )
    return _ENCODER.encode(normal)


def to_json(event: Event, ms: int) -> dict[str, Any]:
    """The canonical form as a dict (common fields first, then the kind's)."""
    out: dict[str, Any] = json.loads(canonical(event, ms))
    order = [s.name for s in COMMON_FIELDS] + [s.name for s in KIND_FIELDS[event.kind]]
    return {name: out[name] for name in order if name in out}


def nesting(value: bytes) -> int:
    """How deep arrays and objects nest in ``value`` (brackets inside strings not counted)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in value:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def too_deep(value: bytes) -> bool:
    """Whether arrays and objects nest more than ``MAX_NESTING`` deep in ``value``; counts
    the brackets first (C speed): with no more openers than that, they cannot."""
    return value.count(b"[") + value.count(b"{") > MAX_NESTING and nesting(value) > MAX_NESTING


# ---- the reference checks: why a document was rejected ---------------------------------------
class _HugeInteger(int):
    """An integer literal Python will not convert (more than 4,000 digits): only its sign."""


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > 4000:
        return _HugeInteger(-1 if text.startswith("-") else 1)
    return int(text)


def _no_constant(name: str) -> Any:
    raise ContractError(f"is not JSON: {name} is not a JSON value")


def _reject_surrogates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    for key, item in pairs:
        for text in (key, item) if isinstance(item, str) else (key,):
            # json joins a valid pair into one character: any surrogate left is half of one,
            # and only then does encoding to UTF-8 fail (checked in C, not per character).
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ContractError(
                    "is not JSON: a string holds half of a surrogate pair"
                ) from None
    return dict(pairs)


def _load(value: bytes) -> Any:
    """The document as Python objects, under the decoder's rules: UTF-8, strict JSON (no NaN,
    no lone surrogates), any integer, at most ``MAX_NESTING`` levels deep."""
    if len(value) > MAX_EVENT_BYTES:
        raise ContractError(f"event is {len(value)} bytes, more than {MAX_EVENT_BYTES}")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(f"is not UTF-8 (byte {exc.start})") from None
    if too_deep(value):
        raise ContractError(f"is not JSON this reader takes: nested more than {MAX_NESTING} deep")
    try:
        return json.loads(
            text,
            parse_int=_integer,
            parse_constant=_no_constant,
            object_pairs_hook=_reject_surrogates,
        )
    except json.JSONDecodeError as exc:
        raise ContractError(f"is not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ContractError("is not JSON: nested too deeply") from None


def _reason(value: bytes, not_after_ms: int | None, why: str) -> ContractError:
    """Why ``value`` was rejected (``why``: what the decoder said); never raises (one record
    never stops the others), and the error keeps no traceback or context (no cycle)."""
    try:
        error = _explain_bytes(value, not_after_ms, why)
    except Exception as unforeseen:
        error = _undecided(f"{type(unforeseen).__name__}: {unforeseen}")
    error.__context__ = error.__cause__ = None
    return error.with_traceback(None)


def _explain_bytes(value: bytes, not_after_ms: int | None, why: str) -> ContractError:
    try:
        obj = _load(value)
    except ContractError as error:
        return error
    return explain(obj, not_after_ms) or _undecided(why)


def _undecided(why: str) -> ContractError:
    """The reason when the reference checks find nothing (a decoder disagreement, which
    ``test_contract_agreement`` exists to prevent): the decoder's own words."""
    text = why.strip().splitlines()[0][:120] if why.strip() else "unknown"
    return ContractError(f"could not be decided ({text})")


def _check_range(spec: FieldSpec, value: float) -> None:
    if spec.minimum is not None and value < spec.minimum:
        raise ContractError(f"{value} is below the minimum {spec.minimum:g}", spec.name)
    if spec.maximum is not None and value > spec.maximum:
        raise ContractError(f"{value} is above the maximum {spec.maximum:g}", spec.name)


def _reference(spec: FieldSpec) -> Callable[[Any], None]:
    """The reference check of one field."""
    name = spec.name
    if spec.type == "string":
        enum = frozenset(spec.enum) if spec.enum is not None else None
        pattern = re.compile(python_pattern(spec.pattern)) if spec.pattern is not None else None
        choices = ", ".join(spec.enum or ())

        def check_string(raw: Any) -> None:
            if not isinstance(raw, str):
                raise ContractError(f"must be a string, got {type(raw).__name__}", name)
            if enum is not None:
                if raw not in enum:
                    raise ContractError(f"{raw[:40]!r} is not one of {choices}", name)
                return
            if not raw or len(raw) > spec.max_length:
                raise ContractError(f"must be 1 to {spec.max_length} characters", name)
            if pattern is not None and pattern.match(raw) is None:
                if spec.sensitive:  # never echo what may be a clear personal identifier
                    raise ContractError(
                        f"is not a pseudonym ({len(raw)} characters; expected {spec.pattern}): "
                        "publish through journey publish, which pseudonymises it",
                        name,
                    )
                raise ContractError(f"{raw[:40]!r} does not match {spec.pattern}", name)

        return check_string
    if spec.type == "integer":

        def check_integer(raw: Any) -> None:
            if isinstance(raw, _HugeInteger):
                raise ContractError("is out of range", name)
            integral = isinstance(raw, float) and math.isfinite(raw) and raw.is_integer()
            if raw.__class__ is not int and not integral:
                raise ContractError(f"must be an integer, got {type(raw).__name__}", name)
            _check_range(spec, raw)

        return check_integer
    if spec.type == "number":

        def check_number(raw: Any) -> None:
            number = raw.__class__ is float or raw.__class__ is int
            if not number and not isinstance(raw, _HugeInteger):
                raise ContractError(f"must be a number, got {type(raw).__name__}", name)
            if isinstance(raw, _HugeInteger):
                raw = math.inf * raw
            if not math.isfinite(raw):
                raise ContractError("must be a finite number", name)
            _check_range(spec, raw)

        return check_number
    if spec.type == "boolean":

        def check_boolean(raw: Any) -> None:
            if raw.__class__ is not bool:
                raise ContractError(f"must be true or false, got {type(raw).__name__}", name)

        return check_boolean

    def check_time(raw: Any) -> None:
        parse_time(raw, name)

    return check_time


_COMMON_CHECKS = tuple((s.name, _reference(s)) for s in COMMON_FIELDS)
_KIND_CHECKS = {
    kind: tuple((s.name, s.required, _reference(s)) for s in specs)
    for kind, specs in KIND_FIELDS.items()
}


def explain(obj: Any, not_after_ms: int | None = None) -> ContractError | None:
    """Why ``obj`` breaks the contract (the first reason, as a person reads an event), or None
    when it does not."""
    try:
        _explain(obj, not_after_ms)
    except ContractError as error:
        error.__context__ = None
        return error.with_traceback(None)  # kept: no frames (a cycle) kept with it
    return None


def _explain(obj: Any, not_after_ms: int | None) -> None:
    if not isinstance(obj, Mapping):
        raise ContractError(f"an event is a JSON object, got {type(obj).__name__}")
    version = obj.get("schema_version")
    if (
        isinstance(version, int | float)
        and not isinstance(version, bool)
        and version > SCHEMA_VERSION
        and float(version).is_integer()
    ):
        raise ContractError(
            f"version {version} is newer than this reader understands "
            f"({SCHEMA_VERSION}); upgrade journey-telemetry",
            "schema_version",
        )
    get = obj.get
    for name, check in _COMMON_CHECKS:
        raw = get(name)
        if raw is None:
            raise ContractError("is missing", name)
        check(raw)
    kind = obj["kind"]
    values = {}
    for name, required, check in _KIND_CHECKS[kind]:
        raw = get(name)
        if raw is None:
            if required:
                raise ContractError(f"is missing (required for kind {kind})", name)
            continue
        check(raw)
        values[name] = raw
    channel = obj["channel"]
    allowed = KIND_CHANNELS.get(kind)
    if allowed is not None and channel not in allowed:
        raise ContractError(
            f"{channel!r} cannot carry a {kind} (allowed: {', '.join(allowed)})", "channel"
        )
    direction = KIND_DIRECTION.get(kind)
    if direction is not None and obj["direction"] != direction:
        raise ContractError(f"a {kind} is {direction}", "direction")
    for condition in KIND_CONDITIONS.get(kind, ()):
        value = values.get(condition.field, obj.get(condition.field))
        present = values.get(condition.name) is not None
        if condition.holds(value):
            if condition.required and not present:
                raise ContractError(
                    f"is required when {condition.field} is {value}", condition.name
                )
        elif present:
            raise ContractError(
                f"a {kind} whose {condition.field} is {value!r} carries no {condition.name}",
                condition.name,
            )
    ms = parse_time(obj["occurred_at"])
    if not_after_ms is not None and ms > not_after_ms:
        raise ContractError(f"{format_ms(ms)} is in the future", "occurred_at")


# Columns of the ``interactions`` table a decoded event fills, in contract order.
EVENT_FIELD_NAMES: tuple[str, ...] = tuple(s.name for s in COMMON_FIELDS) + tuple(
    s.name for s in KIND_SPECIFIC_FIELDS
)
__all__ = [
    "EVENT_FIELD_NAMES",
    "EVENT_TYPE",
    "KIND_TYPES",
    "ContractError",
    "Event",
    "canonical",
    "decode",
    "decode_input",
    "explain",
    "nesting",
    "to_json",
    "validate",
]
