"""The hand-over between the stages: the first stage forwards the customers' own new events;
the second stage's flush (plan_customers) counts them once, however often they arrive, and a
replay from what ClickHouse holds decides as the first pass did."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from streams.logic.aggregate import PartitionBatch, PartitionProgress, Rules, plan_flush
from streams.logic.customer_flush import plan_customers
from streams.logic.customers import Windows
from streams.logic.journey_state import MemoryStates

SOURCE = "t.interactions.v1"
CUSTOMERS = "t.customers.v1"
ANNA, BEN = "ph:k1:" + "a1" * 16, "ph:k1:" + "b2" * 16
DAY1 = datetime(2021, 3, 1, tzinfo=UTC)


def event(n: int, kind: str, channel: str, direction: str, when: datetime, **more: Any) -> bytes:
    body = {
        "event_id": f"e{n}",
        "schema_version": 1,
        "kind": kind,
        "occurred_at": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "tenant": "travelco",
        "industry": "travel_hospitality",
        "use_case": "digital_customer_service",
        "channel": channel,
        "journey_id": f"j{n}",
        "customer_id": ANNA,
        "direction": direction,
    }
    return json.dumps(body | more).encode()


def web(n: int, when: datetime, who: str = ANNA) -> bytes:
    return event(n, "touch", "web", "inbound", when, customer_id=who)


def call(n: int, when: datetime, who: str = ANNA) -> bytes:
    return event(
        n, "ivr_call", "phone", "inbound", when, customer_id=who, duration_s=30, outcome="abandoned"
    )


def mailing(n: int, when: datetime) -> bytes:
    return event(n, "touch", "email", "outbound", when)


def batch(topic: str, values: list[bytes], start: int = 0, partition: int = 0) -> PartitionBatch:
    offsets = list(range(start, start + len(values)))
    return PartitionBatch(topic, partition, offsets, [1_700_000_000_000] * len(values), values)


def test_the_first_stage_forwards_new_digital_touches_and_contacts_only() -> None:
    values = [web(1, DAY1), call(2, DAY1), mailing(3, DAY1), web(1, DAY1)]  # e1 twice
    flush = plan_flush([batch(SOURCE, values)], {}, MemoryStates(), Rules(forward_customers=True))
    assert [(who, json.loads(v)["event_id"]) for who, v in flush.forward] == [
        (ANNA, "e1"),
        (ANNA, "e2"),
    ]
    # the canonical form: the contract's fields only (a stray field stays behind)
    stray = json.dumps(json.loads(web(5, DAY1)) | {"email": "anna@example.com"}).encode()
    (only,) = plan_flush(
        [batch(SOURCE, [stray])], {}, MemoryStates(), Rules(forward_customers=True)
    ).forward
    assert b"anna@example.com" not in only[1] and json.loads(only[1])["event_id"] == "e5"
    quiet = plan_flush([batch(SOURCE, values)], {}, MemoryStates(), Rules())
    assert quiet.forward == []


def rows(flush: Any) -> Counter[tuple[str, str]]:
    return Counter((r["measure"], r["tenant"]) for r in flush.facts.facts("customer"))


def test_the_second_stage_counts_an_event_once_however_often_the_topic_holds_it() -> None:
    values = [web(1, DAY1), call(2, DAY1 + timedelta(hours=2)), web(1, DAY1), call(2, DAY1)]
    store = MemoryStates()
    flush = plan_customers([batch(CUSTOMERS, values)], {}, store, Windows())
    assert rows(flush) == Counter({
        ("digital", "travelco"): 1, ("leaked", "travelco"): 1, ("contact", "travelco"): 1,
        ("assisted", "travelco"): 1, ("after_digital", "travelco"): 1,
    })  # fmt: skip
    assert flush.stats[0].events == 2 and flush.stats[0].duplicates == 2
    assert flush.progress[0].offset == 3
    assert {r["kafka_topic"] for r in flush.facts.facts("customer")} == {CUSTOMERS}


def test_customers_are_apart_and_a_broken_record_is_a_dead_letter() -> None:
    values = [web(1, DAY1, ANNA), call(2, DAY1, BEN), b"{not json"]
    flush = plan_customers([batch(CUSTOMERS, values)], {}, MemoryStates(), Windows())
    assert rows(flush)[("leaked", "travelco")] == 0
    assert set(flush.states[0]) == {ANNA, BEN}
    assert len(flush.rejected) == 1 and len(flush.facts.facts("dead_letter")) == 1


def test_a_replay_from_what_clickhouse_holds_counts_what_the_first_pass_counted() -> None:
    rng = random.Random(4)
    values = []
    for n in range(60):
        when = DAY1 + timedelta(minutes=rng.randrange(0, 10 * 24 * 60, 20))
        who = rng.choice([ANNA, BEN])
        values.append(web(n, when, who) if rng.random() < 0.4 else call(n, when, who))
    values += values[:10]  # the first stage wrote some twice (at least once)
    whole = plan_customers([batch(CUSTOMERS, values)], {}, MemoryStates(), Windows())
    for cut in (0, 25, 50, 65):
        store = MemoryStates()
        first = plan_customers([batch(CUSTOMERS, values[:cut])], {}, store, Windows())
        store.save(first.states)
        # The whole log was decided once and its states stored (ahead of ClickHouse), but only
        # the records before ``cut`` reached ClickHouse: the rest are decided again.
        ahead = MemoryStates()
        ahead.save(whole.states)
        held = {0: PartitionProgress(cut - 1, 0)}
        again = plan_customers([batch(CUSTOMERS, values)], held, ahead, Windows())
        assert rows(first) + rows(again) == rows(whole), cut


def test_the_stage_and_verify_s_plain_truth_agree_on_a_mixed_history() -> None:
    """Two implementations of one definition: the stage's incremental state and `journey
    verify`'s pairwise comparison, on the same shuffled events of three customers."""
    from streams.decoder import decode
    from streams.logic.facts import Facts
    from streams.tools.verify import add_customer_facts

    rng = random.Random(11)
    makers = [web, call, lambda n, when, who: event(
        n, "message_received", "sms", "inbound", when, customer_id=who, message_id=f"m{n}",
        contact_reason=rng.choice(["billing", "delivery"]),
    ), lambda n, when, who: event(
        n, "chatbot_session", "chat", "inbound", when, customer_id=who, handed_off=False,
        contact_reason=rng.choice(["billing", "delivery"]),
    )]  # fmt: skip
    values = []
    for n in range(300):
        when = DAY1 + timedelta(minutes=rng.randrange(0, 20 * 24 * 60, 15))
        values.append(rng.choice(makers)(n, when, rng.choice([ANNA, BEN, "ph:k2:" + "c3" * 16])))
    rng.shuffle(values)
    flush = plan_customers([batch(CUSTOMERS, values)], {}, MemoryStates(), Windows())
    plain = Facts()
    add_customer_facts(plain, [decode(v) for v in values], Windows())
    columns = ("measure", "occurred_at", "tenant", "channel", "kind", "contact_reason", "key_id")

    def counted(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
        return Counter(tuple(r[c] for c in columns) for r in rows)

    stage = counted(flush.facts.facts("customer"))
    assert stage == counted(plain.facts("customer"))
    assert {m for m, *_ in stage} >= {"leaked", "after_digital", "same_reason_repeat", "followed"}


def test_a_partner_months_older_than_the_customers_newest_event_still_pairs() -> None:
    # The customers topic interleaves the first stage's partitions, which a backfill reads
    # months apart: a call of January arrives after the customer's August events.
    august = [call(n, DAY1 + timedelta(days=150 + n)) for n in range(5)]
    values = [web(10, DAY1), *august, call(11, DAY1 + timedelta(hours=5))]
    flush = plan_customers([batch(CUSTOMERS, values)], {}, MemoryStates(), Windows())
    assert rows(flush)[("leaked", "travelco")] == 1
