"""The pure logic of a flush: facts, de-duplication, lateness, joins, and replay safety."""

from __future__ import annotations

import hashlib
import json
import random
import zlib
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.logic.aggregate import (
    Flush,
    PartitionBatch,
    PartitionProgress,
    Rules,
    finish,
    plan_flush,
)
from streams.logic.buckets import LATENCY_BINS, bucket_edges, call_bucket, latency_bucket
from streams.logic.facts import FACT_COLUMNS
from streams.logic.ingest import SourceRecord
from streams.logic.journey_state import (
    Expiry,
    First,
    JourneyState,
    MemoryStates,
    Message,
    Read,
    Send,
    as_of,
)
from streams.publish.pseudonymise import Pseudonymiser
from streams.simulate.generator import Disorder, Simulator
from streams.simulate.run import record_bytes
from streams.tools import verify
from tests.unit.logic.rollup_model import net

TOPIC = "t.interactions.v1"
CUSTOMER = "ph:k1:" + "ab" * 16
RULES = Rules(grace_ms=60_000)


def event(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": f"e{n}",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": "2021-03-01T10:00:00.000Z",
        "tenant": "acme",
        "industry": "retail",
        "use_case": "smart_notification",
        "channel": "email",
        "journey_id": "j1",
        "customer_id": CUSTOMER,
        "direction": "outbound",
    }
    return base | fields


def records(
    *events: dict[str, Any] | bytes, partition: int = 0, start: int = 0
) -> list[SourceRecord]:
    out = []
    for i, e in enumerate(events):
        value = e if isinstance(e, bytes) else json.dumps(e).encode()
        out.append(SourceRecord(TOPIC, partition, start + i, 1_700_000_000_000, value))
    return out


def plan(
    batch: list[SourceRecord],
    progress: dict[int, PartitionProgress] | None = None,
    store: MemoryStates | None = None,
) -> Flush:
    """plan_flush over records, states kept (saved) in ``store``."""
    store = store if store is not None else MemoryStates()
    flush = plan_flush(PartitionBatch.of(batch), progress or {}, store, RULES)
    store.save(flush.states)
    return flush


def facts(flush: Flush, kind: str) -> list[dict[str, Any]]:
    return flush.facts.facts(kind)


def ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def test_every_fact_row_has_every_column() -> None:
    batch = records(
        event(1, kind="message_sent", channel="sms", message_id="m1", purpose="delivery"),
        event(
            2,
            kind="message_receipt",
            channel="sms",
            message_id="m1",
            status="read",
            read_signal="read_receipt",
            occurred_at="2021-03-01T10:01:00.000Z",
        ),
        event(
            3,
            kind="ivr_call",
            channel="phone",
            direction="inbound",
            duration_s=35.2,
            outcome="self_served",
        ),
        b"{broken",
    )
    flush = plan(batch)
    kinds = {"interaction", "journey", "read_pair", "dead_letter"}
    assert all(facts(flush, kind) for kind in kinds)
    columns = finish(flush, lags={}, worker="w", now_ms=0, epochs={0: 3})
    assert len(columns) == len(FACT_COLUMNS)
    assert len({len(c) for c in columns}) == 1  # every column has every row
    assert set(columns[FACT_COLUMNS.index("fact")]) == kinds | {"progress"}
    assert set(columns[FACT_COLUMNS.index("epoch")]) == {3}


def test_duplicates_count_once_within_and_across_batches() -> None:
    store = MemoryStates()
    first = plan(records(event(1), event(1), event(2)), store=store)
    assert len(facts(first, "interaction")) == 2
    assert first.stats[0].duplicates == 1
    second = plan(records(event(2), event(3), start=3), first.progress, store)
    assert [r["event_id"] for r in facts(second, "interaction")] == ["e3"]


def test_records_clickhouse_already_holds_are_skipped() -> None:
    batch = records(event(1), event(2), event(3))
    flush = plan(batch, {0: PartitionProgress(offset=1)})
    assert [r["event_id"] for r in facts(flush, "interaction")] == ["e3"]
    assert flush.token == f"{TOPIC}/0:2-2"


def test_replay_with_state_ahead_of_clickhouse_decides_as_the_first_pass() -> None:
    batch = records(
        event(1),
        event(2, kind="message_sent", channel="sms", message_id="m", purpose="order"),
        event(
            3,
            kind="message_receipt",
            channel="sms",
            message_id="m",
            status="clicked",
            read_signal="click_proxy",
            occurred_at="2021-03-01T10:02:00.000Z",
        ),
        event(1),
    )
    store = MemoryStates()
    first = plan(batch, store=store)
    # The store and changelog got the states, the insert never happened: replay from the
    # same progress, with the states ahead of ClickHouse.
    again = plan(batch, store=store)
    for kind in ("interaction", "journey", "read_pair"):
        assert facts(again, kind) == facts(first, kind)


def test_lateness_is_against_the_partition_watermark_and_still_applied() -> None:
    batch = records(
        event(1, occurred_at="2021-03-01T10:00:00.000Z"),
        event(2, occurred_at="2021-03-01T09:59:30.000Z", journey_id="j2"),  # inside grace
        event(3, occurred_at="2021-03-01T09:00:00.000Z", journey_id="j3"),  # beyond it
    )
    flush = plan(batch)
    lates = [r["late"] for r in facts(flush, "interaction")]
    assert lates == [0, 0, 1]
    assert flush.stats[0].late == 1
    assert flush.progress[0].watermark_ms == 1614592800000


def test_read_pair_forms_in_either_order_in_the_send_hour() -> None:
    send = event(
        1,
        kind="message_sent",
        channel="sms",
        message_id="m",
        purpose="delivery",
        occurred_at="2021-03-01T10:59:00.000Z",
    )
    read = event(
        2,
        kind="message_receipt",
        channel="sms",
        message_id="m",
        status="read",
        read_signal="read_receipt",
        occurred_at="2021-03-01T11:01:30.000Z",
    )
    reread = event(
        3,
        kind="message_receipt",
        channel="sms",
        message_id="m",
        status="replied",
        read_signal="reply_proxy",
        occurred_at="2021-03-01T11:05:00.000Z",
    )
    for order in ((send, read, reread), (read, send, reread), (reread, send, read)):
        flush = plan(records(*order))
        # The earliest read signal, whatever arrives first: in the last order the reply
        # arrives first and is paired, then retracted when the earlier read arrives.
        (pair,) = net(facts(flush, "read_pair"))
        assert pair[1] == ms("2021-03-01T10:59:00+00:00")
        assert pair[5:8] == ("sms", "delivery", "read_receipt")
        assert len(facts(flush, "read_pair")) == (3 if order[0] is reread else 1)
    pairs = facts(plan(records(send, read)), "read_pair")
    assert pairs[0]["duration_ms"] == 150_000
    assert pairs[0]["bucket_s"] == 150
    assert pairs[0]["read_signal"] == "read_receipt"
    # The reply is not the first read signal in two of the orders, and still counts, once.
    for order in ((send, read, reread), (read, send, reread), (reread, send, read)):
        (reply,) = facts(plan(records(*order, reread | {"event_id": "e4"})), "reply")
        assert reply["occurred_at"] == ms("2021-03-01T10:59:00+00:00")
        assert (reply["purpose"], reply["channel"]) == ("delivery", "sms")
        assert reply["duration_ms"] == 360_000
    assert facts(plan(records(send, read)), "reply") == []


def test_a_replay_from_a_state_ahead_of_clickhouse_gives_the_reply_again() -> None:
    """The reply's entry in the state carries its offset: a replay of the batch whose insert
    never landed (the state was stored) decides the replied send again, exactly once."""
    send = event(1, kind="message_sent", channel="sms", message_id="m", purpose="payment")
    reply = event(
        2,
        kind="message_receipt",
        channel="sms",
        message_id="m",
        status="replied",
        read_signal="reply_proxy",
    )
    store = MemoryStates()
    first = plan(records(send, reply), store=store)
    again = plan(records(send, reply), store=store)  # nothing committed: the same records
    assert len(facts(first, "reply")) == len(facts(again, "reply")) == 1
    later = plan(records(reply | {"event_id": "e3"}, start=2), store=store)
    assert facts(later, "reply") == []


def test_journeys_count_once_with_their_distinct_channels() -> None:
    batch = records(
        event(1, channel="email"),
        event(2, channel="web", occurred_at="2021-03-02T10:00:00.000Z"),
        event(3, channel="email"),
    )
    rows = facts(plan(batch), "journey")
    assert sum(r["journeys"] for r in rows) == 1
    assert sum(r["journey_channels"] for r in rows) == 2
    # Attributed to the time of the journey's first-seen event.
    assert {r["occurred_at"] for r in rows} == {ms("2021-03-01T10:00:00+00:00")}


def test_calls_carry_integer_milliseconds_and_their_bucket() -> None:
    call = event(
        1,
        kind="ivr_call",
        channel="phone",
        direction="inbound",
        duration_s=103.4567,
        outcome="transferred_to_agent",
    )
    (row,) = facts(plan(records(call)), "interaction")
    assert row["duration_ms"] == 103457
    assert row["bucket_s"] == 100


def test_dead_letters_keep_reason_and_bytes_and_do_not_stop_the_partition() -> None:
    flush = plan(records(b'{"event_id": "x"\xff\xfe', event(1)))
    (dead,) = facts(flush, "dead_letter")
    # What is JSON is kept; bytes that are not could hold anything and are withheld.
    assert dead["original"] == b'{"event_id": "x"<withheld: 2 bytes>'
    assert dead["original_size"] == 18
    assert dead["original_sha256"] == hashlib.sha256(b'{"event_id": "x"\xff\xfe').hexdigest()
    assert dead["code"] == "event:is not UTF-8"
    assert len(facts(flush, "interaction")) == 1
    assert flush.stats[0].dead_codes == {"event:is not UTF-8": 1}


def test_as_of_drops_entries_written_at_or_after_an_offset() -> None:
    send = Send(2, 1, "order", "sms", "acme", "retail", "x")
    state = JourneyState(
        h=9,
        t=5,
        events={11: 2, 12: 9},
        channels={"email": 2, "web": 9},
        first=First(2, 1, "acme", "retail", "smart_notification"),
        messages={21: Message(send, Read(9, 3, "read_receipt"))},
    )
    old = as_of(state, 5)
    assert old.events == {11: 2} and old.channels == {"email": 2} and old.h == 2
    assert old.messages == {21: Message(send, None)}
    assert as_of(state, 2).first is None
    assert as_of(state, 10) is state
    from streams.logic.journey_state import encode

    assert Expiry(RULES.journey_ttl_ms).expired(encode(JourneyState(t=0)), RULES.journey_ttl_ms + 1)
    assert not Expiry(RULES.journey_ttl_ms).expired(encode(JourneyState(t=1)), RULES.journey_ttl_ms)


def test_as_of_restores_what_a_correction_displaced() -> None:
    """A replay from before a correction must see the entry the correction replaced, or it
    would count the journey (or the pair) anew instead of moving it."""
    first = First(2, 500, "acme", "retail", "smart_notification")
    earlier = First(7, 100, "acme", "retail", "retention")
    earliest = First(9, 50, "acme", "retail", "retention")
    click, read = Read(4, 30, "click_proxy"), Read(8, 10, "read_receipt")
    send = Send(3, 1, "order", "sms", "acme", "retail", "x")
    state = JourneyState(
        h=9,
        events={1: 2, 2: 3, 3: 4, 4: 7, 5: 8, 6: 9},
        channels={"email": 2, "sms": 3},
        first=earliest,
        firsts=[first, earlier],
        messages={21: Message(send, read, reads=[click])},
    )
    assert (as_of(state, 9).first, as_of(state, 9).firsts) == (earlier, [first])
    assert (as_of(state, 7).first, as_of(state, 7).firsts) == (first, [])
    assert as_of(state, 2).first is None
    assert as_of(state, 8).messages == {21: Message(send, click)}
    assert as_of(state, 4).messages == {21: Message(send, None)}
    assert as_of(state, 3).messages == {}
    # Stored and read back, with the lists (empty ones included) as they were.
    from streams.logic.journey_state import decode, encode

    assert decode(encode(state)) == state


def test_buckets_are_lower_bounds_of_fixed_bins() -> None:
    assert call_bucket(0) == 0 and call_bucket(4_999) == 0 and call_bucket(35_000) == 35
    assert call_bucket(400_000) == 360 and call_bucket(10**9) == 7200
    assert latency_bucket(179_999) == 165 and latency_bucket(180_000) == 180
    assert latency_bucket(-5) == 0
    edges = bucket_edges(LATENCY_BINS)
    assert edges[:3] == [0, 15, 30] and edges[-1] == 86_400
    assert all(latency_bucket(e * 1000) == e for e in edges)


# ---- replay safety, as a property ------------------------------------------------------------
def simulated(seed: int, partitions: int = 3) -> list[list[SourceRecord]]:
    sim = Simulator(
        seed=seed,
        disorder=Disorder(0.1, 3600, 0.1, 0.2, 0.02, overtaken_fraction=0.2),
        pseudonymise=Pseudonymiser(b"unit-test-key"),
    )
    out: list[list[SourceRecord]] = [[] for _ in range(partitions)]
    for rec in sim.backfill(
        400, datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 1, 20, tzinfo=UTC)
    ):
        p = zlib.crc32(rec.key) % partitions
        out[p].append(SourceRecord(TOPIC, p, len(out[p]), rec.publish_ms, record_bytes(rec)))
    return out


def totals(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """What the rollups would hold: facts counted by everything but Kafka position and time."""
    skip = {"kafka_offset", "kafka_timestamp", "event_id", "lag"}
    return Counter(tuple(v for k, v in sorted(r.items()) if k not in skip) for r in rows)


def all_facts(flush: Flush) -> list[dict[str, Any]]:
    kinds = ("interaction", "journey", "read_pair", "reply", "dead_letter")
    return [row for kind in kinds for row in facts(flush, kind)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(1, 10_000), crash_seed=st.integers(0, 10**6))
def test_crashes_anywhere_give_the_single_pass_result(seed: int, crash_seed: int) -> None:
    parts = simulated(seed)
    interleaved = sorted((r for p in parts for r in p), key=lambda r: (r.timestamp_ms, r.partition))

    def single_pass() -> list[dict[str, Any]]:
        return all_facts(plan(interleaved))

    rng = random.Random(crash_seed)
    clickhouse: list[dict[str, Any]] = []  # rows that "landed"
    committed: dict[int, PartitionProgress] = {}
    store = MemoryStates()  # the store and changelog: always at least as far as ClickHouse
    position = 0
    while position < len(interleaved):
        size = rng.randint(1, 120)
        batch = interleaved[position : position + size]
        flush = plan(batch, committed, store)  # states stored first
        if rng.random() < 0.3:
            # Crash before the insert: Kafka offsets were not committed, so the worker
            # restarts from some earlier position, with the table ahead of ClickHouse.
            position = max(0, position - rng.randint(0, 300))
            continue
        clickhouse.extend(all_facts(flush))
        committed = {**committed, **flush.progress}
        position += size
        if rng.random() < 0.2:  # crash after the insert, before committing Kafka offsets
            position = max(0, position - rng.randint(0, 300))
    assert totals(clickhouse) == totals(single_pass())


def test_truth_and_worker_logic_agree_on_simulated_traffic() -> None:
    parts = simulated(3)
    flushes = [plan(p) for p in parts]
    truth = verify.compute_truth(parts, RULES)
    assert truth.duplicates > 0
    # The same fact rows, in what every view reads of them (the order may differ).
    for kind, columns in {
        "interaction": ("event_id", "kind", "occurred_at", "tenant", "channel", "late",
                        "duration_ms", "bucket_s", "read_signal", "handed_off"),
        "dead_letter": ("kafka_offset", "code", "reason"),
    }.items():  # fmt: skip
        worker = sorted(tuple(r[c] for c in columns) for f in flushes for r in facts(f, kind))
        independent = sorted(tuple(r[c] for c in columns) for r in truth.facts.facts(kind))
        assert worker == independent and (worker or kind == "dead_letter"), kind
    # Journeys and pairs: the worker corrects as it goes (its rows net out), the truth
    # writes one row per journey and pair.
    for kind in ("journey", "read_pair", "reply"):
        worker_net = net(r for f in flushes for r in facts(f, kind))
        assert worker_net == net(truth.facts.facts(kind)), kind
        assert worker_net or kind == "reply", kind
    assert len(truth.facts.facts("interaction")) > 300
