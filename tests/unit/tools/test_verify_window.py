"""`journey verify --from/--to`, the rollups step: the raw table's rows read back give the
same facts as the records, and the window is taken in whole hours and days."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.errors import JourneyError
from streams.logic.customers import Windows
from streams.logic.facts import Facts
from streams.logic.ingest import SourceRecord
from streams.tools import verify
from streams.tools.verify_window import Periods, _add, placed
from tests.unit.logic.rollup_model import net
from tests.unit.logic.test_order_independence import RULES, TOPIC, journey_events

KINDS = ("interaction", "journey", "read_pair", "reply", "conversation")


def raw_rows(facts: Facts) -> list[dict[str, Any]]:
    """The interaction facts as the raw table stores them and ``window_*_events`` reads
    them back: every event column, its time in ms as ``at``, where it came from, late."""
    return [{**row, "at": row["occurred_at"]} for row in facts.facts("interaction")]


@settings(max_examples=100, deadline=None)
@given(events=journey_events(), order=st.randoms(use_true_random=False))
def test_the_raw_rows_read_back_in_any_order_give_the_records_facts(
    events: list[dict[str, Any]], order: random.Random
) -> None:
    values = [json.dumps(e).encode() for e in events]
    records = [SourceRecord(TOPIC, 0, i, 1_700_000_000_000, v) for i, v in enumerate(values)]
    truth = verify.compute_truth([records], RULES, Windows()).facts
    rows = raw_rows(truth)
    order.shuffle(rows)  # the raw table has no arrival order to give
    back = [placed(row) for row in rows]
    again = Facts()
    verify.add_event_facts(again, back)
    verify.add_customer_facts(again, ((p.event, p.at) for p in back), Windows())
    for kind in KINDS:
        assert net(again.facts(kind)) == net(truth.facts(kind)), kind
    # `late` and where each event came from are read back as stored, not recomputed.
    key = ("kafka_offset", "late", "event_id")
    stored = sorted(tuple(r[k] for k in key) for r in truth.facts("interaction"))
    assert sorted(tuple(r[k] for k in key) for r in again.facts("interaction")) == stored
    customer = sorted(sorted(r.items()) for r in truth.facts("customer"))
    assert sorted(sorted(r.items()) for r in again.facts("customer")) == customer


def test_an_absent_optional_field_reads_back_as_absent() -> None:
    row = {
        "event_id": "e1", "kind": "touch", "at": 5, "tenant": "acme", "industry": "retail",
        "use_case": "retention", "channel": "web", "journey_id": "j", "customer_id": "c",
        "direction": "inbound", "duration_s": 0.0, "outcome": "", "purpose": "",
        "message_id": "", "status": "", "read_signal": "", "handed_off": False,
        "conversation_id": "", "contact_reason": "", "agent_requested": False,
        "exit_reason": "", "reply_enabled": False, "error_code": "", "handoff_requested": False,
        "resolved": False, "in_reply_to": "", "kafka_partition": 2, "kafka_offset": 9,
        "late": -1,
    }  # fmt: skip
    p = placed(row)
    assert p.event.conversation_id is None and p.event.read_signal is None
    assert (p.at, p.late, p.partition, p.offset) == (5, 0, 2, 9)  # -1: not recorded


def test_the_window_is_compared_in_whole_hours_and_whole_days() -> None:
    periods = Periods.inside(
        datetime(2021, 3, 1, 6, 30, tzinfo=UTC), datetime(2021, 3, 3, 18, 0, tzinfo=UTC)
    )
    assert periods.hours == (
        datetime(2021, 3, 1, 7, tzinfo=UTC),
        datetime(2021, 3, 3, 18, tzinfo=UTC),
    )
    assert periods.days == (date(2021, 3, 2), date(2021, 3, 3))
    within_a_day = Periods.inside(
        datetime(2021, 3, 1, 6, tzinfo=UTC), datetime(2021, 3, 1, 9, tzinfo=UTC)
    )
    assert within_a_day.days is None
    with pytest.raises(JourneyError, match="the window holds no whole hour"):
        Periods.inside(
            datetime(2021, 3, 1, 6, 10, tzinfo=UTC), datetime(2021, 3, 1, 6, 50, tzinfo=UTC)
        )


def test_shares_are_summed_key_by_key_and_nothing_left_is_dropped() -> None:
    into: dict[str, verify.Table] = {}
    _add(into, {"t": {("a",): (1, 2), ("b",): (1, 0)}})
    _add(into, {"t": {("a",): (3, 4), ("b",): (-1, 0)}})
    assert into == {"t": {("a",): (4, 6)}}
