"""The worker's Native writer against clickhouse-connect's, on the same rows."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.insert import InsertContext
from clickhouse_connect.driver.transform import NativeTransform

from streams.logic.facts import FACT_COLUMNS, FACT_DEFAULTS, FACT_TYPES, Facts
from streams.sinks.clickhouse import facts_batch, facts_insert, joined
from streams.sinks.native import native_header, native_insert


def connect_bytes(facts: Facts) -> bytes:
    """What clickhouse-connect writes for ``facts.columns()`` as one block."""
    context = InsertContext(
        "ingest_facts",
        list(FACT_COLUMNS),
        [get_from_name(t) for t in FACT_TYPES.values()],
        facts.columns(),
        column_oriented=True,
        block_size=max(facts.rows, 1),
    )
    body = b"".join(NativeTransform.build_insert(context))
    assert context.insert_exception is None
    return body


def every_kind() -> Facts:
    """Blocks filling every type of column, text and bytes, unusual values included."""
    facts = Facts()
    facts.add(
        "interaction",
        3,
        {
            "event_id": ["e1", "é2", "e" * 300],  # multi-byte UTF-8; a length over one byte
            "schema_version": [1, 1, 1],
            "occurred_at": [1_600_000_000_000, 0, 4_102_444_800_000],
            "duration_s": [0.5, 0.0, 12345.678],
            "handed_off": [True, False, True],
            "kafka_partition": [0, 5, 65535],
            "kafka_offset": [0, 2**40, 2**64 - 1],
            "late": [1, 0, 1],
            "sign": [1, -1, 1],
        },
    )
    facts.add(
        "dead_letter",
        2,
        {
            "original": [b"\xff\x00not json", b""],  # bytes, sent as they are
            "original_size": [10, 0],
            "reason": ["is not JSON", ""],
            "kafka_partition": [1, 2],
        },
    )
    facts.add("progress", 1, {"lag": [-1], "watermark": [-5], "worker": ["w"]})
    return facts


def test_the_same_bytes_as_clickhouse_connect_for_one_block() -> None:
    facts = every_kind().with_column(
        "epoch", lambda size, block: [7] * size if "kafka_partition" in block else [0] * size
    )
    ours = native_insert("ingest_facts", FACT_TYPES, FACT_DEFAULTS, facts.blocks)
    assert ours == connect_bytes(facts)
    insert = facts_insert(facts, "token-1")
    assert insert.native == ours and insert.size == 6 and insert.token == "token-1"


def test_no_rows_is_the_header_and_the_columns_named() -> None:
    body = native_insert("t", {"a": "UInt8", "b": "String"}, {"a": 0, "b": ""}, [])
    assert body == b"INSERT INTO t (`a`, `b`) FORMAT Native\n\x02\x00\x01a\x05UInt8\x01b\x06String"


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("kafka_partition", 70_000, "kafka_partition (UInt16)"),
        ("kafka_offset", -1, "kafka_offset (UInt64)"),
        ("event_id", None, "event_id (String)"),
        ("duration_s", "fast", "duration_s (Float64)"),
    ],
)
def test_a_value_that_cannot_be_sent_names_its_column(column: str, value: Any, why: str) -> None:
    facts = Facts()
    facts.add("interaction", 2, {column: [FACT_DEFAULTS[column], value]})
    expected = re.escape(f"rows of ingest_facts cannot be sent: column {why}: ")
    with pytest.raises(TypeError, match=expected):
        native_insert("ingest_facts", FACT_TYPES, FACT_DEFAULTS, facts.blocks)


def test_joined_inserts_are_one_header_then_each_block_as_it_is() -> None:
    first, second = every_kind(), Facts()
    second.add("progress", 1, {"lag": [3], "worker": ["w"]})
    a, b = facts_insert(first, "t/0:0-4"), facts_insert(second, "t/0:5-9")
    header = native_header("ingest_facts", FACT_COLUMNS)
    both = joined([a, b])
    assert isinstance(both.native, tuple)  # the pieces, not a copy of them
    assert b"".join(both.native) == a.native + (b.native or b"")[len(header) :]
    assert both.token == "t/0:0-4+t/0:5-9" and both.size == 7
    assert joined([a]) is a


def test_only_native_inserts_of_the_same_columns_are_joined() -> None:
    a = facts_insert(every_kind(), "t/0:0-4")
    other = facts_batch(every_kind().columns(), "t/0:5-9")  # column lists, not Native
    with pytest.raises(ValueError, match="batch t/0:5-9 is not one"):
        joined([a, other])
    renamed = replace(a, table="elsewhere", token="t/1:0-4")
    with pytest.raises(ValueError, match="batch t/1:0-4 is not one"):
        joined([a, renamed])
