"""The same events give the same rollups in any arrival order, batching and replay.

"First" is first by event time (docs/exactly-once.md): a journey's earliest event, a
message's earliest send, read signal and reply. When a later-arriving event turns out to be
the earlier one, the worker writes a correction (sign -1 where it counted, +1 where it
belongs). These tests run the real pure logic (``plan_flush`` and the journey state as stored)
over one set of events in many orders and batchings, crash and replay included, and require
the same net rollups every time, equal to what ``journey verify`` computes independently.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.logic.aggregate import PartitionBatch, PartitionProgress, Rules, plan_flush
from streams.logic.ingest import SourceRecord
from streams.logic.journey_state import MemoryStates
from streams.tools import verify
from tests.unit.logic.rollup_model import Net, net
from tests.unit.logic.test_aggregate import event

TOPIC = "t.interactions.v1"
CUSTOMER = "ph:k1:" + "ab" * 16
RULES = Rules()
# Times close together (ties in the same millisecond, an hour and a day boundary) so the
# earliest event, send and signal change with the order events arrive in.
MIDNIGHT = round(datetime(2021, 3, 2, tzinfo=UTC).timestamp() * 1000)
TIMES = (-3_600_000, -60_000, -1, 0, 1, 10_000, 30_000, 3_600_000)
CELLS = (
    ("acme", "retail", "smart_notification"),
    ("acme", "retail", "retention"),
    ("bolt", "telecom", "smart_notification"),
)
SIGNALS = {"read_receipt": "read", "click_proxy": "clicked", "reply_proxy": "replied"}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


@st.composite
def journey_events(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A few journeys of touches, sends and read signals, at clashing times and cells."""
    events: list[dict[str, Any]] = []
    for j in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(1, 7))):
            tenant, industry, use_case = draw(st.sampled_from(CELLS))
            event = {
                "event_id": f"e{len(events)}",
                "schema_version": 1,
                "occurred_at": _iso(MIDNIGHT + draw(st.sampled_from(TIMES))),
                "tenant": tenant,
                "industry": industry,
                "use_case": use_case,
                "journey_id": f"j{j}",
                "customer_id": CUSTOMER,
            }
            kind = draw(
                st.sampled_from(("touch", "message_sent", "message_receipt", "message_received"))
            )
            message = {"message_id": f"m{draw(st.integers(0, 1))}"}
            thread = f"c{draw(st.integers(0, 1))}"  # a social conversation (contract 1.1)
            if kind == "message_received" and draw(st.booleans()):  # the customer's reply
                event |= {"kind": kind, "direction": "inbound", "channel": "sms"}
                event |= {"message_id": f"in{len(events)}", "in_reply_to": message["message_id"]}
            elif kind == "message_received":  # the customer's social message
                event |= {"kind": kind, "direction": "inbound", "channel": "social"}
                event |= {"message_id": f"in{len(events)}", "conversation_id": thread}
            elif kind == "touch":
                direction = draw(st.sampled_from(("outbound", "inbound")))
                event |= {"kind": "touch", "direction": direction}
                event["channel"] = draw(st.sampled_from(("email", "web", "sms", "social")))
                if event["channel"] == "social":  # a brand's reply, or a customer's post
                    event["conversation_id"] = thread
            elif kind == "message_sent":
                purpose = draw(st.sampled_from(("delivery", "payment")))
                event |= {"kind": kind, "direction": "outbound", "purpose": purpose, **message}
                event["reply_enabled"] = draw(st.booleans())
                event["channel"] = draw(st.sampled_from(("sms", "messaging")))
            else:
                signal = draw(st.sampled_from(sorted(SIGNALS)))
                event |= {"kind": kind, "direction": "outbound", **message}
                event |= {"status": SIGNALS[signal], "read_signal": signal, "channel": "sms"}
            events.append(event)
    return events


def _run(values: list[bytes], cuts: list[int], crashes: random.Random | None = None) -> Net:
    """The net rollups after the worker's logic decides ``values`` (arrival order), in batches
    ending at ``cuts``; with ``crashes``, some inserts never land and the batch is decided
    again from a journey state that is ahead of ClickHouse, as after a SIGKILL."""
    records = [SourceRecord(TOPIC, 0, i, 1_700_000_000_000, v) for i, v in enumerate(values)]
    store, progress = MemoryStates(), {0: PartitionProgress()}
    landed: list[dict[str, Any]] = []
    ends = sorted({*cuts, len(records)})
    start = 0
    for end in ends:
        while True:
            batch = records[progress[0].offset + 1 : end] if start < end else []
            if not batch:
                break
            flush = plan_flush(PartitionBatch.of(batch), progress, store, RULES)
            store.save(flush.states)  # the changelog is written before the insert
            if crashes is not None and crashes.random() < 0.3:
                continue  # the insert never landed: decided again, state ahead of it
            landed.extend(row for kind in verify_kinds() for row in flush.facts.facts(kind))
            progress = dict(flush.progress)
        start = end
    return net(landed)


def verify_kinds() -> tuple[str, ...]:
    return ("interaction", "journey", "read_pair", "reply", "conversation")


def _truth(values: list[bytes]) -> Net:
    records = [SourceRecord(TOPIC, 0, i, 1_700_000_000_000, v) for i, v in enumerate(values)]
    facts = verify.compute_truth([records], RULES).facts
    return net(row for kind in verify_kinds() for row in facts.facts(kind))


@settings(max_examples=150, deadline=None)
@given(
    events=journey_events(),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 40), max_size=5),
    replayed=st.booleans(),
)
def test_any_arrival_order_and_batching_gives_the_same_rollups(
    events: list[dict[str, Any]], order: random.Random, cuts: list[int], replayed: bool
) -> None:
    values = [json.dumps(e).encode() for e in events]
    as_generated = _run(values, [])
    arrived = [*values, values[0]]  # one event published twice, as at-least-once producers do
    order.shuffle(arrived)
    crashes = random.Random(order.random()) if replayed else None
    assert _run(arrived, cuts, crashes) == as_generated
    assert as_generated == _truth(values)


def _flush_net(*events: dict[str, Any]) -> Net:
    return _run([json.dumps(e).encode() for e in events], [])


def _event(n: int, at: str, **fields: Any) -> dict[str, Any]:
    return event(n, occurred_at=at, **fields)


def test_a_journey_belongs_to_the_day_of_its_earliest_event_whatever_arrives_first() -> None:
    """The issue's example: an earliest event at 23:59 that arrives after one at 00:01."""
    late_night = _event(1, "2021-03-01T23:59:00.000Z")
    next_day = _event(2, "2021-03-02T00:01:00.000Z", channel="web")
    for order in ((late_night, next_day), (next_day, late_night)):
        journeys = {k[1]: v for k, v in _flush_net(*order).items() if k[0] == "journey"}
        assert journeys == {
            round(datetime(2021, 3, 1, 23, 59, tzinfo=UTC).timestamp() * 1000): (1, 2)
        }


def test_a_read_pair_rests_on_the_earliest_signal_whatever_arrives_first() -> None:
    """The issue's example: a click 30 s after the send published before a receipt at 10 s."""
    send = _event(
        1, "2021-03-01T10:00:00.000Z", kind="message_sent", channel="sms", message_id="m",
        purpose="delivery",
    )  # fmt: skip
    receipt = _event(
        2, "2021-03-01T10:00:10.000Z", kind="message_receipt", channel="sms", message_id="m",
        status="read", read_signal="read_receipt",
    )  # fmt: skip
    click = receipt | {
        "event_id": "e3", "occurred_at": "2021-03-01T10:00:30.000Z", "status": "clicked",
        "read_signal": "click_proxy",
    }  # fmt: skip
    for order in ((send, receipt, click), (send, click, receipt), (click, send, receipt)):
        pairs = [(k[7], k[8]) for k, v in _flush_net(*order).items() if k[0] == "read_pair"]
        assert pairs == [("read_receipt", 10_000)]
