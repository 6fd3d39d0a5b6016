"""The event contract as Markdown (``docs/event-contract.md``), generated from the field specs."""

from __future__ import annotations

import json

from streams.events import (
    COMMON_FIELDS,
    CONTRACT_VERSION,
    EVOLUTION,
    KIND_CHANNELS,
    KIND_CONDITIONS,
    KIND_DIRECTION,
    KIND_FIELDS,
    MAX_EVENT_BYTES,
    MAX_NESTING,
    SCHEMA_VERSION,
    FieldSpec,
    json_schema,
)


def _row(spec: FieldSpec) -> str:
    allowed = (
        ", ".join(f"`{v}`" for v in spec.enum)
        if spec.enum
        else (f"pattern `{spec.pattern}`" if spec.pattern else "")
    )
    if spec.minimum is not None or spec.maximum is not None:
        allowed = f"{spec.minimum:g} to {spec.maximum:g}"
    kind = "RFC 3339 date-time with offset" if spec.type == "timestamp" else spec.type
    required = "yes" if spec.required else "no"
    allowed = allowed.replace("|", "\\|")  # a pipe would end the table's cell
    added = f" (added in {spec.since})" if spec.since != "1.0" else ""
    return f"| `{spec.name}` | {kind} | {required} | {allowed} | {spec.description}{added} |"


def markdown() -> str:
    """The whole contract page."""
    lines = [
        f"# Interaction event contract, version {CONTRACT_VERSION}",
        "",
        "Generated from `streams/events.py` by `python -m streams.tools.contract_docs`; "
        "`tests/unit/tools/test_contract_docs.py` fails if this page is stale. The same fields "
        "are shipped as JSON Schema in `streams/interaction.schema.json` "
        "(`journey schema` prints it).",
        "",
        "One event is one JSON object, UTF-8, at most "
        f"{MAX_EVENT_BYTES:,} bytes, published to `<prefix>.interactions.v1` with "
        "`journey_id` as the Kafka key (so a journey's events share a partition and stay in "
        "order). Extra fields are tolerated by readers and dropped by `journey publish`. A "
        f"`schema_version` above {SCHEMA_VERSION} is rejected with a reason that says the "
        "reader is too old (`1.0` is `1`: JSON Schema counts it an integer).",
        "",
        "The JSON Schema accepts exactly what the worker and `journey publish` accept "
        "(`tests/unit/test_contract_agreement.py` proves it; validate with `format` asserted, "
        "date-time, and the patterns as ECMA-262 regular expressions), except two rules no "
        "static schema states: an event stamped more than a day after its Kafka record (for "
        "the publisher: after now) is rejected as in the future, and a document nested more "
        f"than {MAX_NESTING} levels deep is rejected. Optional fields may be `null`, which "
        "means absent. Times are cut, not rounded, to the millisecond.",
        "",
        "## Versions: how the contract evolves",
        "",
        f"This is version {CONTRACT_VERSION}. Producers write `schema_version: "
        f"{SCHEMA_VERSION}`; the fields and values 1.1 added say so in their meaning.",
        "",
        EVOLUTION.rstrip("\n"),
        "",
        "## Fields of every event",
        "",
        "| field | type | required | allowed | meaning |",
        "| --- | --- | --- | --- | --- |",
        *(_row(s) for s in COMMON_FIELDS),
        "",
        "## Kinds",
        "",
        "Receipts (`message_receipt`) are signals about a message, not interactions: channel "
        "mix and interaction counts leave them out.",
    ]
    for kind, specs in KIND_FIELDS.items():
        lines += ["", f"### `{kind}`", ""]
        rules = []
        if kind in KIND_CHANNELS:
            rules.append("channel: " + ", ".join(f"`{c}`" for c in KIND_CHANNELS[kind]))
        if kind in KIND_DIRECTION:
            rules.append(f"direction: `{KIND_DIRECTION[kind]}`")
        rules += [condition.describe() for condition in KIND_CONDITIONS.get(kind, ())]
        if rules:
            lines += ["Rules: " + "; ".join(rules) + ".", ""]
        if specs:
            lines += [
                "| field | type | required | allowed | meaning |",
                "| --- | --- | --- | --- | --- |",
                *(_row(s) for s in specs),
            ]
        else:
            lines.append("No fields beyond the common ones: any channel, either direction.")
    example = {
        "event_id": "ivr-2021-000001",
        "schema_version": 1,
        "kind": "ivr_call",
        "occurred_at": "2021-06-01T09:30:00.250Z",
        "tenant": "bank-alpha",
        "industry": "financial_services",
        "use_case": "digital_customer_service",
        "channel": "phone",
        "journey_id": "j-8842",
        "customer_id": "customer-1234",
        "direction": "inbound",
        "duration_s": 34.5,
        "outcome": "self_served",
    }
    lines += [
        "",
        "## Example",
        "",
        "As an engineer writes it (`customer_id` in clear; `journey publish` replaces it with "
        "`ph:<key id>:<32 hex>` before the event leaves the machine):",
        "",
        "```json",
        json.dumps(example),
        "```",
        "",
    ]
    return "\n".join(lines)


def schema_text() -> str:
    """The JSON Schema file's text."""
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    from streams.events import SCHEMA_PATH

    docs = Path(__file__).resolve().parents[2] / "docs" / "event-contract.md"
    docs.parent.mkdir(exist_ok=True)
    docs.write_text(markdown())
    SCHEMA_PATH.write_text(schema_text())
    print(f"wrote {docs} and {SCHEMA_PATH}")
