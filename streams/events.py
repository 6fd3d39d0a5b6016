"""The interaction event contract, version 1: the single source of truth.

Every field is declared once in ``COMMON_FIELDS`` / ``KIND_FIELDS``; from those come the
validator (``parse_event``), the JSON Schema shipped with the package
(``interaction.schema.json``, ``journey schema``), the ClickHouse column list of the raw
``interactions`` table (checked by a test against ``sql/migrations``), and the field-by-field
documentation (``docs/event-contract.md``).

Rules beyond field types:
- ``occurred_at`` is the event time: ISO 8601 with an offset (``Z`` or ``+hh:mm``), stored as
  UTC with millisecond precision. A time without an offset is rejected, not guessed.
- ``customer_id`` never travels in clear: it is ``ph:<key id>:<32 hex>``, a keyed HMAC-SHA256
  made by the publisher (``streams/pseudonymise.py``).
- Unknown extra fields are tolerated and dropped. A ``schema_version`` newer than
  ``SCHEMA_VERSION`` is rejected with a reason that says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from streams import vocabulary as v

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent / "interaction.schema.json"
MAX_EVENT_BYTES = 16 * 1024
EARLIEST_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
PSEUDONYM_PATTERN = r"^ph:[a-z0-9]{1,16}:[0-9a-f]{32}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

FieldType = Literal["string", "integer", "number", "boolean", "timestamp"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of the contract: type, constraints, ClickHouse column type, description."""

    name: str
    type: FieldType
    description: str
    column: str
    required: bool = True
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    max_length: int = 128
    minimum: float | None = None
    maximum: float | None = None
    # A personal value: an error never quotes it (errors reach the dead letters, the
    # publisher's rejects file and logs).
    sensitive: bool = False


def _id(name: str, description: str) -> FieldSpec:
    """An identifier: 1 to 128 printable ASCII characters without spaces."""
    return FieldSpec(name, "string", description, "String", pattern=r"^[\x21-\x7e]{1,128}$")


def _duration(name: str, description: str) -> FieldSpec:
    """A duration in seconds, up to a day."""
    return FieldSpec(name, "number", description, "Float64", minimum=0.0, maximum=86_400.0)


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    _id(
        "event_id",
        "Stable unique id of this event, reused on every resend; "
        "the worker counts an event_id once.",
    ),
    FieldSpec(
        "schema_version",
        "integer",
        "Contract version the producer wrote (1).",
        "UInt8",
        minimum=1,
        maximum=255,
    ),
    FieldSpec(
        "kind",
        "string",
        "What happened; selects the kind-specific fields.",
        "LowCardinality(String)",
        enum=v.KINDS,
    ),
    FieldSpec(
        "occurred_at",
        "timestamp",
        "Event time, ISO 8601 with an offset; stored UTC, millisecond precision.",
        "DateTime64(3, 'UTC')",
    ),
    FieldSpec(
        "tenant",
        "string",
        "The brand (tenant) the event belongs to, a lower-case slug.",
        "LowCardinality(String)",
        pattern=SLUG_PATTERN,
        max_length=64,
    ),
    FieldSpec(
        "industry", "string", "Industry of the brand.", "LowCardinality(String)", enum=v.INDUSTRIES
    ),
    FieldSpec(
        "use_case", "string", "Use case of the journey.", "LowCardinality(String)", enum=v.USE_CASES
    ),
    FieldSpec(
        "channel",
        "string",
        "Channel of this interaction.",
        "LowCardinality(String)",
        enum=v.CHANNELS,
    ),
    _id(
        "journey_id",
        "Journey this interaction serves; also the Kafka key, "
        "so a journey's events share a partition.",
    ),
    FieldSpec(
        "customer_id",
        "string",
        "Pseudonymised customer: ph:<key id>:<32 hex>, a keyed "
        "HMAC-SHA256 of the brand's own id, never the id in clear.",
        "String",
        pattern=PSEUDONYM_PATTERN,
        max_length=64,
        sensitive=True,
    ),
    FieldSpec(
        "direction",
        "string",
        "inbound (customer to brand) or outbound.",
        "LowCardinality(String)",
        enum=v.DIRECTIONS,
    ),
)

KIND_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "touch": (),
    "ivr_call": (
        _duration("duration_s", "Call duration in seconds."),
        FieldSpec(
            "outcome",
            "string",
            "How the IVR call ended.",
            "LowCardinality(String)",
            enum=v.IVR_OUTCOMES,
        ),
    ),
    "notification_call": (
        _duration("duration_s", "Call duration in seconds."),
        FieldSpec(
            "purpose",
            "string",
            "What the outbound call notified.",
            "LowCardinality(String)",
            enum=v.NOTIFICATION_CALL_PURPOSES,
        ),
    ),
    "message_sent": (
        _id("message_id", "Provider id of the message; receipts refer to it."),
        FieldSpec(
            "purpose",
            "string",
            "What the message is for.",
            "LowCardinality(String)",
            enum=v.MESSAGE_PURPOSES,
        ),
    ),
    "message_receipt": (
        _id("message_id", "The message this receipt is about."),
        FieldSpec(
            "status",
            "string",
            "delivered, read, clicked or replied.",
            "LowCardinality(String)",
            enum=v.RECEIPT_STATUSES,
        ),
        FieldSpec(
            "read_signal",
            "string",
            "What a read rests on: read_receipt (RCS, WhatsApp, "
            "Viber...) or a proxy (click_proxy, reply_proxy); absent when delivered.",
            "LowCardinality(String)",
            enum=v.READ_SIGNALS,
            required=False,
        ),
    ),
    "chatbot_session": (
        FieldSpec(
            "handed_off", "boolean", "Whether the bot handed the customer to a human.", "Bool"
        ),
    ),
}

KIND_CHANNELS: dict[str, tuple[str, ...]] = {
    "ivr_call": ("phone",),
    "notification_call": ("phone",),
    "message_sent": v.MESSAGE_CHANNELS,
    "message_receipt": v.MESSAGE_CHANNELS,
    "chatbot_session": v.CHATBOT_CHANNELS,
}
KIND_DIRECTION: dict[str, str] = {
    "ivr_call": "inbound",
    "notification_call": "outbound",
    "message_sent": "outbound",
    "message_receipt": "outbound",
}


def _all_optional_fields() -> tuple[FieldSpec, ...]:
    seen: dict[str, FieldSpec] = {}
    for specs in KIND_FIELDS.values():
        for spec in specs:
            seen.setdefault(spec.name, spec)
    return tuple(seen.values())


KIND_SPECIFIC_FIELDS = _all_optional_fields()


@dataclass(frozen=True, slots=True)
class Interaction:
    """A validated event; kind-specific fields not used by its kind are empty."""

    event_id: str
    schema_version: int
    kind: str
    occurred_at: datetime
    tenant: str
    industry: str
    use_case: str
    channel: str
    journey_id: str
    customer_id: str
    direction: str
    duration_s: float = 0.0
    outcome: str = ""
    purpose: str = ""
    message_id: str = ""
    status: str = ""
    read_signal: str = ""
    handed_off: bool = False

    def to_json(self) -> dict[str, Any]:
        """The event as contract JSON (only the fields its kind has)."""
        out: dict[str, Any] = {}
        for spec in COMMON_FIELDS:
            value = getattr(self, spec.name)
            out[spec.name] = format_time(value) if spec.type == "timestamp" else value
        for spec in KIND_FIELDS[self.kind]:
            value = getattr(self, spec.name)
            if spec.required or value:
                out[spec.name] = value
        return out


INTERACTION_FIELDS = tuple(f.name for f in fields(Interaction))


class ContractError(ValueError):
    """An event breaks the contract; ``field`` names where (None for the whole event)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)

    @property
    def code(self) -> str:
        """A short stable label for counting rejections by reason."""
        return f"{self.field or 'event'}:{self.reason.split(' (')[0].split(':')[0]}"[:80]


def format_time(value: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a ``Z``, the contract's time format."""
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:"
        f"{u.second:02d}.{u.microsecond // 1000:03d}Z"
    )


def parse_time(raw: Any, field: str = "occurred_at") -> datetime:
    """Parse an ISO 8601 time with an offset into a UTC datetime truncated to milliseconds."""
    if not isinstance(raw, str):
        raise ContractError(f"must be an ISO 8601 string, got {type(raw).__name__}", field)
    if len(raw) > 40:
        raise ContractError("is too long to be a timestamp", field)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ContractError(f"is not an ISO 8601 time: {raw[:40]!r}", field) from None
    if parsed.tzinfo is None:
        raise ContractError("has no UTC offset (add Z or +hh:mm)", field)
    parsed = parsed.astimezone(UTC)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _compile(spec: FieldSpec) -> Callable[[Any], Any]:
    """A checker for one field, built once: the validator's hot path is per-event."""
    name = spec.name
    if spec.type == "string":
        enum = frozenset(spec.enum) if spec.enum is not None else None
        pattern = re.compile(spec.pattern) if spec.pattern is not None else None
        max_length = spec.max_length
        choices = ", ".join(spec.enum or ())
        sensitive = spec.sensitive

        def check_string(raw: Any) -> Any:
            if raw.__class__ is not str and not isinstance(raw, str):
                raise ContractError(f"must be a string, got {type(raw).__name__}", name)
            if enum is not None:
                if raw not in enum:
                    raise ContractError(f"{raw[:40]!r} is not one of {choices}", name)
                return raw
            if not raw or len(raw) > max_length:
                raise ContractError(f"must be 1 to {max_length} characters", name)
            if pattern is not None and pattern.fullmatch(raw) is None:
                if sensitive:  # never echo what may be a clear personal identifier
                    raise ContractError(
                        f"is not a pseudonym ({len(raw)} characters; expected {spec.pattern}): "
                        "publish through journey publish, which pseudonymises it",
                        name,
                    )
                raise ContractError(f"{raw[:40]!r} does not match {spec.pattern}", name)
            return raw

        return check_string
    if spec.type == "integer":

        def check_integer(raw: Any) -> Any:
            if raw.__class__ is not int:
                raise ContractError(f"must be an integer, got {type(raw).__name__}", name)
            _check_range(spec, raw)
            return raw

        return check_integer
    if spec.type == "number":

        def check_number(raw: Any) -> Any:
            if raw.__class__ is not float and raw.__class__ is not int:
                raise ContractError(f"must be a number, got {type(raw).__name__}", name)
            if not math.isfinite(raw):
                raise ContractError("must be a finite number", name)
            _check_range(spec, raw)
            return float(raw)

        return check_number
    if spec.type == "boolean":

        def check_boolean(raw: Any) -> Any:
            if raw.__class__ is not bool:
                raise ContractError(f"must be true or false, got {type(raw).__name__}", name)
            return raw

        return check_boolean
    return lambda raw: parse_time(raw, name)


def _check_range(spec: FieldSpec, value: float) -> None:
    if spec.minimum is not None and value < spec.minimum:
        raise ContractError(f"{value} is below the minimum {spec.minimum:g}", spec.name)
    if spec.maximum is not None and value > spec.maximum:
        raise ContractError(f"{value} is above the maximum {spec.maximum:g}", spec.name)


_COMMON_CHECKS = tuple((s.name, _compile(s)) for s in COMMON_FIELDS)
_KIND_CHECKS = {
    kind: tuple((s.name, s.required, _compile(s)) for s in specs)
    for kind, specs in KIND_FIELDS.items()
}


def validate(obj: Any, *, not_after: datetime | None = None) -> Interaction:
    """Check a decoded JSON object against the contract; return the Interaction.

    ``not_after`` bounds ``occurred_at`` (the publisher passes now + 1 day; the worker passes
    the Kafka record's own timestamp + 1 day, so a replay decides exactly as the first pass).
    """
    if not isinstance(obj, Mapping):
        raise ContractError(f"an event is a JSON object, got {type(obj).__name__}")
    version = obj.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ContractError(
            f"version {version} is newer than this reader understands "
            f"({SCHEMA_VERSION}); upgrade journey-telemetry",
            "schema_version",
        )
    values: dict[str, Any] = {}
    get = obj.get
    for name, check in _COMMON_CHECKS:
        raw = get(name)
        if raw is None:
            raise ContractError("is missing", name)
        values[name] = check(raw)
    kind = values["kind"]
    for name, required, check in _KIND_CHECKS[kind]:
        raw = get(name)
        if raw is None:
            if required:
                raise ContractError(f"is missing (required for kind {kind})", name)
            continue
        values[name] = check(raw)
    _check_rules(values, not_after)
    return Interaction(**values)


def _check_rules(values: dict[str, Any], not_after: datetime | None) -> None:
    kind = values["kind"]
    occurred = values["occurred_at"]
    if occurred < EARLIEST_EVENT_TIME:
        raise ContractError(f"{format_time(occurred)} is before 2000", "occurred_at")
    if not_after is not None and occurred > not_after:
        raise ContractError(f"{format_time(occurred)} is in the future", "occurred_at")
    allowed = KIND_CHANNELS.get(kind)
    if allowed is not None and values["channel"] not in allowed:
        raise ContractError(
            f"{values['channel']!r} cannot carry a {kind} (allowed: {', '.join(allowed)})",
            "channel",
        )
    direction = KIND_DIRECTION.get(kind)
    if direction is not None and values["direction"] != direction:
        raise ContractError(f"a {kind} is {direction}", "direction")
    if kind == "message_receipt":
        delivered = values["status"] == "delivered"
        if delivered and values.get("read_signal"):
            raise ContractError("a delivery receipt carries no read_signal", "read_signal")
        if not delivered and not values.get("read_signal"):
            raise ContractError(f"is required when status is {values['status']}", "read_signal")


def parse_event(data: bytes | str, *, not_after: datetime | None = None) -> Interaction:
    """Decode one JSON event (bytes or text) and validate it."""
    if len(data) > MAX_EVENT_BYTES:
        raise ContractError(f"event is {len(data)} bytes, more than {MAX_EVENT_BYTES}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError(f"is not UTF-8 (byte {exc.start})") from None
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ContractError(f"is not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ContractError("is not JSON: nested too deeply") from None
    except ValueError as exc:  # a number too long to convert (Python's 4300-digit limit)
        raise ContractError(f"is not JSON this reader can hold: {_first_line(exc)}") from None
    return validate(obj, not_after=not_after)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].split(";")[0][:120] if text else type(exc).__name__


def default_not_after() -> datetime:
    """What the publisher accepts as latest event time: one day ahead of now (clock skew)."""
    return datetime.now(UTC) + timedelta(days=1)


def json_schema() -> dict[str, Any]:
    """The contract as JSON Schema (2020-12): one branch per kind, extra fields allowed."""

    def prop(spec: FieldSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"description": spec.description}
        if spec.type == "timestamp":
            out.update(type="string", format="date-time")
        else:
            out["type"] = spec.type
        if spec.enum is not None:
            out["enum"] = list(spec.enum)
        if spec.pattern is not None:
            out["pattern"] = spec.pattern
        if spec.type == "string" and spec.enum is None:
            out.update(minLength=1, maxLength=spec.max_length)
        if spec.minimum is not None:
            out["minimum"] = spec.minimum
        if spec.maximum is not None:
            out["maximum"] = spec.maximum
        return out

    branches = []
    for kind, specs in KIND_FIELDS.items():
        branch: dict[str, Any] = {
            "title": kind,
            "properties": {"kind": {"const": kind}, **{s.name: prop(s) for s in specs}},
            "required": [s.name for s in specs if s.required],
        }
        if kind in KIND_CHANNELS:
            branch["properties"]["channel"] = {"enum": list(KIND_CHANNELS[kind])}
        if kind in KIND_DIRECTION:
            branch["properties"]["direction"] = {"const": KIND_DIRECTION[kind]}
        branches.append(branch)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://journey-telemetry.invalid/schemas/interaction/v1.json",
        "title": "Interaction event",
        "description": "One touch between a brand and a customer on one channel (version "
        f"{SCHEMA_VERSION}). Extra fields are tolerated.",
        "type": "object",
        "properties": {s.name: prop(s) for s in COMMON_FIELDS}
        | {"schema_version": {**prop(COMMON_FIELDS[1]), "maximum": SCHEMA_VERSION}},
        "required": [s.name for s in COMMON_FIELDS],
        "additionalProperties": True,
        "oneOf": branches,
    }


def raw_columns() -> list[tuple[str, str]]:
    """Columns of the raw ``interactions`` table that come from the contract, in order."""
    cols = [(s.name, s.column) for s in COMMON_FIELDS]
    cols += [(s.name, s.column) for s in KIND_SPECIFIC_FIELDS]
    return cols
