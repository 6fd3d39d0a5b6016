"""The interaction event contract, version 1.1: the single source of truth.

Every field is declared once in ``COMMON_FIELDS`` / ``KIND_FIELDS``; from those come the
compiled decoder the worker and the publisher use (``streams.decoder``), the reference checks
that explain a rejection, the JSON Schema shipped with the package (``interaction.schema.json``,
``journey schema``), the ClickHouse column list of the raw ``interactions`` table (checked by a
test against ``streams/sql/migrations``), and the field-by-field documentation
(``docs/event-contract.md``). ``tests/unit/test_contract_agreement.py`` proves that the
published JSON Schema and the decoder accept exactly the same documents.

Rules beyond field types:
- ``occurred_at`` is the event time: an RFC 3339 date-time with an offset (``Z`` or
  ``+hh:mm``), year 2000 or later as written, stored as UTC with millisecond precision (finer
  digits are cut, not rounded). A time without an offset is rejected, not guessed.
- ``customer_id`` never travels in clear: it is ``ph:<key id>:<32 hex>``, a keyed HMAC-SHA256
  made by the publisher (``streams/publish/pseudonymise.py``).
- Unknown extra fields are tolerated and dropped. A ``schema_version`` newer than
  ``SCHEMA_VERSION`` is rejected with a reason that says so.
- How the contract evolves (``EVOLUTION`` below, and docs/event-contract.md): ``schema_version``
  is the major version; a minor version (``CONTRACT_VERSION``) only adds, so every event of an
  earlier minor version stays valid and means the same.
- Two rules no static schema can state: an event stamped more than a day after its Kafka record
  (after now, for the publisher) is rejected as in the future, and JSON nested more than
  ``MAX_NESTING`` levels deep is rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from streams import vocabulary as v

SCHEMA_VERSION = 1  # the major version: what producers write in schema_version
CONTRACT_MINOR = 1  # the minor version of this reader: 1.1
CONTRACT_VERSION = f"{SCHEMA_VERSION}.{CONTRACT_MINOR}"
EVOLUTION = """\
`schema_version` is the contract's **major** version, the only version an event carries. A
**minor** version (1.1 after 1.0) is additive and backwards compatible; a reader of it accepts
every event of an earlier minor version and gives it the same meaning. A minor version may add:

- an optional field to a kind (absent means what the field's description says);
- a new kind;
- a new value of an enumeration (a status, an outcome, a reason);
- a rule about a field it adds (which channels or directions carry it).

It may never remove or rename a field, make an optional field required, narrow what a field
accepts, or change what a value means: those need a new **major** version, published to a new
topic (`<prefix>.interactions.v2`) beside the old one, both read until the producers have
moved.

A reader of an older minor version drops the fields it does not know (extra fields are
tolerated) and counts the event without them. A new kind or a new enumeration value is
unknown to it: the event becomes a dead letter whose reason names the value, never a silent
loss. So upgrade the workers (and `journey publish`) before producers send what a new minor
version adds; the dead letters of a producer that moved first can be replayed once the workers
are upgraded.
"""
SCHEMA_PATH = Path(__file__).resolve().parent / "interaction.schema.json"
MAX_EVENT_BYTES = 16 * 1024
# Events are flat; a producer's extra fields may nest, but not without bound: past this the
# decoders' recursion limits would decide, and they differ.
MAX_NESTING = 64
# Patterns are whole-value patterns in JSON Schema's (ECMA-262) syntax: ``$`` ends the value.
# Python's ``$`` also matches before a final newline, so Python matches them with ``\Z``
# (``python_pattern``). Character classes are ASCII ([0-9], never \d: Python's \d takes every
# Unicode digit).
PSEUDONYM_PATTERN = r"^ph:[a-z0-9]{1,16}:[0-9a-f]{32}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ID_PATTERN = r"^[\x21-\x7e]{1,128}$"
TIME_PATTERN = (
    r"^[2-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)

FieldType = Literal["string", "integer", "number", "boolean", "timestamp"]


def python_pattern(pattern: str) -> str:
    """A contract pattern for Python's ``re``: the same, ending at the very end of the value."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern


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
    since: str = "1.0"  # the contract version that added the field


@dataclass(frozen=True)
class Condition:
    """A field only some events of its kind carry: present (required, if ``required``) when
    the event's ``field`` is one of ``values``, and absent (or null) otherwise."""

    name: str
    field: str
    values: tuple[str, ...]
    required: bool = False

    def holds(self, value: Any) -> bool:
        """Whether an event whose ``field`` is ``value`` may carry the field."""
        return value in self.values

    def describe(self) -> str:
        """The rule in words, for the contract's documentation."""
        values = ", ".join(f"`{x}`" for x in self.values)
        when = f"only when `{self.field}` is {values}"
        return f"`{self.name}` {when}" + (", and required then" if self.required else "")


def _id(name: str, description: str) -> FieldSpec:
    """An identifier: 1 to 128 printable ASCII characters without spaces."""
    return FieldSpec(name, "string", description, "String", pattern=ID_PATTERN)


def _duration(name: str, description: str, **more: Any) -> FieldSpec:
    """A duration in seconds, up to a day."""
    return FieldSpec(name, "number", description, "Float64", minimum=0.0, maximum=86_400.0, **more)


def _added(spec: FieldSpec, required: bool = False) -> FieldSpec:
    """A field contract version 1.1 added: optional, as every field a minor version adds to
    an existing kind (a kind it adds may require its own fields)."""
    return replace(spec, required=required, since="1.1")


def _flag(name: str, description: str) -> FieldSpec:
    """An optional yes/no field of 1.1; absent is stored as false."""
    return _added(FieldSpec(name, "boolean", description + " Absent means false.", "Bool"))


_CONVERSATION = _added(
    _id(
        "conversation_id",
        "The thread a social or chat message belongs to, as the platform names it: pairs a "
        "brand's reply (an outbound touch) with the customer's message (a message_received "
        "or an inbound touch) for first-response time; publish both in one journey.",
    )
)
_CONTACT_REASON = _added(
    FieldSpec(
        "contact_reason",
        "string",
        "Why the customer got in touch, a lower-case slug of the brand's own reasons "
        "(billing, delivery...): inbound contacts only.",
        "LowCardinality(String)",
        pattern=SLUG_PATTERN,
        max_length=64,
    )
)


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
        "Event time, RFC 3339 with an offset, year 2000 or later; stored UTC, millisecond "
        "precision.",
        "DateTime64(3, 'UTC')",
        pattern=TIME_PATTERN,
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
    "touch": (_CONVERSATION, _CONTACT_REASON),
    "ivr_call": (
        _duration("duration_s", "Call duration in seconds."),
        FieldSpec(
            "outcome",
            "string",
            "How the IVR call ended.",
            "LowCardinality(String)",
            enum=v.IVR_OUTCOMES,
        ),
        _flag("agent_requested", "Whether the caller asked for a person."),
        _added(
            FieldSpec(
                "exit_reason",
                "string",
                "How the caller left the IVR's menus.",
                "LowCardinality(String)",
                enum=v.IVR_EXIT_REASONS,
            )
        ),
        _CONTACT_REASON,
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
        _flag("reply_enabled", "Whether the customer can answer the message (two-way)."),
    ),
    "message_receipt": (
        _id("message_id", "The message this receipt is about."),
        FieldSpec(
            "status",
            "string",
            "delivered, read, clicked or replied; failed (the provider could not send it) or "
            "undelivered (the carrier could not deliver it).",
            "LowCardinality(String)",
            enum=v.RECEIPT_STATUSES,
        ),
        FieldSpec(
            "read_signal",
            "string",
            "What a read rests on: read_receipt (RCS, WhatsApp, "
            "Viber...) or a proxy (click_proxy, reply_proxy); absent (or null) when delivered.",
            "LowCardinality(String)",
            enum=v.READ_SIGNALS,
            required=False,
        ),
        _added(
            FieldSpec(
                "error_code",
                "string",
                "The provider's error code of a failed or undelivered message (Twilio's 30003, "
                "Vonage's 1-ABC...), as the provider gives it.",
                "LowCardinality(String)",
                pattern=ID_PATTERN,
            )
        ),
    ),
    "chatbot_session": (
        FieldSpec(
            "handed_off", "boolean", "Whether the bot handed the customer to a human.", "Bool"
        ),
        _flag("handoff_requested", "Whether the customer asked for a human."),
        _flag("resolved", "Whether the bot resolved what the customer came for."),
        _added(_duration("duration_s", "Session duration in seconds.")),
        _CONTACT_REASON,
    ),
    "message_received": (
        _added(
            _id(
                "message_id",
                "Provider id of the customer's message (an inbound SMS, a WhatsApp message, a "
                "social post or direct message, a chat line).",
            ),
            required=True,
        ),
        _added(
            _id(
                "in_reply_to",
                "The message_id of the brand's message this one answers: the reply to it "
                "(publish it in that message's journey).",
            )
        ),
        _CONVERSATION,
        _CONTACT_REASON,
    ),
}
# Which of a kind's optional fields only some of its events carry.
KIND_CONDITIONS: dict[str, tuple[Condition, ...]] = {
    "touch": (
        Condition("conversation_id", "channel", v.CONVERSATION_CHANNELS),
        Condition("contact_reason", "direction", ("inbound",)),
    ),
    "message_receipt": (
        Condition("read_signal", "status", v.READ_STATUSES, required=True),
        Condition("error_code", "status", v.FAILED_STATUSES),
    ),
    "chatbot_session": (Condition("contact_reason", "direction", ("inbound",)),),
}

KIND_CHANNELS: dict[str, tuple[str, ...]] = {
    "ivr_call": ("phone",),
    "notification_call": ("phone",),
    "message_sent": v.MESSAGE_CHANNELS,
    "message_receipt": v.MESSAGE_CHANNELS,
    "chatbot_session": v.CHATBOT_CHANNELS,
    "message_received": v.RECEIVED_CHANNELS,
}
KIND_DIRECTION: dict[str, str] = {
    "ivr_call": "inbound",
    "notification_call": "outbound",
    "message_sent": "outbound",
    "message_receipt": "outbound",
    "message_received": "inbound",
}


def _all_optional_fields() -> tuple[FieldSpec, ...]:
    """Every kind-specific field once, in the order versions added them (a new version's
    columns come after the old ones in the raw table), the first declaration of each."""
    seen: dict[str, FieldSpec] = {}
    for specs in KIND_FIELDS.values():
        for spec in specs:
            seen.setdefault(spec.name, spec)
    return tuple(sorted(seen.values(), key=lambda spec: spec.since))


KIND_SPECIFIC_FIELDS = _all_optional_fields()
# What a kind-specific field holds on an event of a kind that does not carry it.
EMPTY_VALUES: dict[FieldType, Any] = {"string": "", "number": 0.0, "boolean": False}


# Quoted values (Python's repr of a string the record held) and numbers or times in a reason.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_NUMERIC = re.compile(r"(?<![\w-])-?\d[\d:.TZe+-]*")


class ContractError(ValueError):
    """An event breaks the contract; ``field`` names where (None for the whole event)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)

    @cached_property
    def code(self) -> str:
        """A short stable label for counting rejections by reason: the field and the reason's
        wording, without the values it quotes (strings, numbers, times), which come from the
        record. A label per value would let hostile records grow the dead-letter metrics and
        the reason table without bound. (Made once: a flush reads it three times per
        rejected record, and the two patterns cost more than the rest of a rejection.)"""
        wording = _QUOTED.sub("…", self.reason)
        wording = _NUMERIC.sub("N", wording).split(" (")[0].split(":")[0]
        return f"{self.field or 'event'}:{wording}"[:80]


# ---- times ---------------------------------------------------------------------------------
_TIME = re.compile(python_pattern(TIME_PATTERN))
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def utc_ms(text: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 time that matches ``TIME_PATTERN``
    (digits past the millisecond are cut). Raises ValueError for a day its month lacks."""
    days = date(int(text[0:4]), int(text[5:7]), int(text[8:10])).toordinal() - _EPOCH_DAY
    ms = ((days * 24 + int(text[11:13])) * 60 + int(text[14:16])) * 60_000
    ms += int(text[17:19]) * 1000
    end = len(text)
    if text[-1] != "Z":  # +hh:mm or -hh:mm
        end -= 6
        offset = (int(text[end + 1 : end + 3]) * 60 + int(text[end + 4 : end + 6])) * 60_000
        ms = ms - offset if text[end] == "+" else ms + offset
    else:
        end -= 1
    if end > 19:  # a fraction: ".d" to ".ddddddddd"
        ms += int((text[20:end] + "00")[:3])
    return ms


def parse_time(raw: Any, field: str = "occurred_at") -> int:
    """An event time as UTC milliseconds, or the ContractError that says what is wrong."""
    if not isinstance(raw, str):
        raise ContractError(f"must be an RFC 3339 string, got {type(raw).__name__}", field)
    if len(raw) > 40:
        raise ContractError("is too long to be a timestamp", field)
    if _TIME.match(raw) is None:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise ContractError(f"is not an RFC 3339 time: {raw[:40]!r}", field) from None
        if parsed.tzinfo is None:
            raise ContractError("has no UTC offset (add Z or +hh:mm)", field)
        if parsed.year < 2000:
            raise ContractError(f"{raw[:40]!r} is before 2000", field)
        raise ContractError(
            f"is not an RFC 3339 time: {raw[:40]!r} (write 2021-06-01T09:30:00.250Z)", field
        )
    try:
        return utc_ms(raw)
    except ValueError:
        raise ContractError(f"{raw[:10]!r} is not a date", field) from None


def format_ms(ms: int) -> str:
    """UTC RFC 3339 with milliseconds and a ``Z``, the contract's canonical time format."""
    u = datetime.fromtimestamp(ms // 1000, UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:"
        f"{u.second:02d}.{ms % 1000:03d}Z"
    )


# ---- JSON Schema ---------------------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    """The contract as JSON Schema (2020-12): one branch per kind, extra fields allowed.

    It accepts exactly what the decoder accepts (``tests/unit/test_contract_agreement.py``),
    with ``format`` asserted (``date-time``: the day must exist in its month), except for the
    two rules no static schema can state: the future bound and ``MAX_NESTING``."""

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
        if not spec.required:  # an optional field may also be null, which means absent
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out

    branches = []
    for kind, specs in KIND_FIELDS.items():
        specs_by_name = {spec.name: spec for spec in specs}
        branch: dict[str, Any] = {
            "title": kind,
            "properties": {"kind": {"const": kind}, **{s.name: prop(s) for s in specs}},
            "required": [s.name for s in specs if s.required],
        }
        if kind in KIND_CHANNELS:
            branch["properties"]["channel"] = {"enum": list(KIND_CHANNELS[kind])}
        if kind in KIND_DIRECTION:
            branch["properties"]["direction"] = {"const": KIND_DIRECTION[kind]}
        # A field only some events of the kind carry (a delivery receipt has no read signal).
        conditions = [
            {
                "if": {"properties": {c.field: {"enum": list(c.values)}}},
                "then": (
                    {
                        "required": [c.name],
                        "properties": {c.name: {"type": prop(specs_by_name[c.name])["type"][0]}},
                    }
                    if c.required
                    else {}
                ),
                "else": {"properties": {c.name: {"type": "null"}}},
            }
            for c in KIND_CONDITIONS.get(kind, ())
        ]
        if conditions:
            branch["allOf"] = conditions
        branches.append(branch)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://journey-telemetry.invalid/schemas/interaction/v1.json",
        "title": "Interaction event",
        "description": "One touch between a brand and a customer on one channel (version "
        f"{CONTRACT_VERSION}: schema_version {SCHEMA_VERSION}). Extra fields are tolerated. "
        "Validate with format assertion (date-time). Beyond this schema: occurred_at may be "
        "at most one day after the Kafka "
        f"record's timestamp, and values may nest at most {MAX_NESTING} levels deep.",
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
