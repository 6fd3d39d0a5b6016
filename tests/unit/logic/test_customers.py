"""Customer-level leakage and repeat contact (streams/logic/customers.py), on answers worked out
by hand: window edges, midnight, ties, a key rotation, any arrival order, replays."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from streams.decoder import Event, decode
from streams.logic.customers import (
    CustomerState,
    Fact,
    Windows,
    apply,
    as_of,
    encode,
    is_assisted,
    is_contact,
    is_digital,
    key_id,
)
from streams.logic.customers import (
    decode as decode_state,
)

ANNA = "ph:k1:" + "a1" * 16
ANNA_AFTER_ROTATION = "ph:k2:" + "7c" * 16
DAY1 = datetime(2021, 3, 1, tzinfo=UTC)
_ids = count()


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def doc(kind: str, channel: str, direction: str, when: datetime, **fields: Any) -> bytes:
    body: dict[str, Any] = {
        "event_id": f"e-{next(_ids)}",
        "schema_version": 1,
        "kind": kind,
        "occurred_at": at(when),
        "tenant": "travelco",
        "industry": "travel_hospitality",
        "use_case": "digital_customer_service",
        "channel": channel,
        # each contact its own journey: only the customer ties them together
        "journey_id": f"j-{next(_ids)}",
        "customer_id": ANNA,
        "direction": direction,
    }
    return json.dumps(body | fields).encode()


def web(when: datetime, **fields: Any) -> bytes:
    return doc("touch", "web", "inbound", when, **fields)


def call(when: datetime, **fields: Any) -> bytes:
    return doc("ivr_call", "phone", "inbound", when, duration_s=60, outcome="self_served", **fields)


def chat(when: datetime, **fields: Any) -> bytes:
    return doc("chatbot_session", "chat", "inbound", when, handed_off=False, **fields)


def message(when: datetime, **fields: Any) -> bytes:
    return doc("message_received", "sms", "inbound", when, message_id=f"m-{next(_ids)}", **fields)


DEFAULT = Windows()


def run(
    values: list[bytes], windows: Windows = DEFAULT
) -> tuple[dict[str, CustomerState], list[Fact]]:
    """Apply ``values`` in order (offsets 0, 1, ...), one state per pseudonym."""
    states: dict[str, CustomerState] = {}
    facts: list[Fact] = []
    for offset, value in enumerate(values):
        event, ms = decode(value)
        state = states.setdefault(event.customer_id, CustomerState())
        apply(state, event, ms, offset, windows, facts)
    return states, facts


def counted(facts: list[Fact]) -> Counter[tuple[str, str]]:
    """measure -> how many, by the day they count on."""
    return Counter(
        (f.measure, datetime.fromtimestamp(f.ms / 1000, UTC).strftime("%m-%d")) for f in facts
    )


def measures(facts: list[Fact]) -> Counter[str]:
    return Counter(f.measure for f in facts)


def event_of(value: bytes) -> Event:
    return decode(value)[0]


def test_what_counts_as_digital_assisted_and_a_contact() -> None:
    visit, phoned, chatted, texted = (
        event_of(v) for v in (web(DAY1), call(DAY1), chat(DAY1), message(DAY1))
    )
    agent = event_of(doc("touch", "phone", "inbound", DAY1))
    store = event_of(doc("touch", "in_store", "inbound", DAY1))
    mailing = event_of(doc("touch", "email", "outbound", DAY1))
    sent = event_of(doc("message_sent", "sms", "outbound", DAY1, message_id="m1", purpose="order"))
    assert [is_digital(e) for e in (visit, phoned, store)] == [True, False, False]
    assert [is_assisted(e) for e in (visit, phoned, chatted, agent, texted, store)] == [
        False, True, True, True, False, False,
    ]  # fmt: skip
    everything = (visit, phoned, chatted, agent, texted, store, mailing, sent)
    assert [is_contact(e) for e in everything] == [
        False, True, True, True, True, True, False, False,
    ]  # fmt: skip
    assert key_id(ANNA) == "k1" and key_id("someone") == ""


def test_a_call_within_a_day_of_a_web_visit_is_leakage_up_to_the_window_edge() -> None:
    # 24 hours to the millisecond: inside; one millisecond more: outside.
    _, facts = run([web(DAY1), call(DAY1 + timedelta(days=1))])
    assert measures(facts)["leaked"] == 1 and measures(facts)["after_digital"] == 1
    _, facts = run([web(DAY1), call(DAY1 + timedelta(days=1, milliseconds=1))])
    assert measures(facts)["leaked"] == 0 and measures(facts)["after_digital"] == 0
    # A call before the visit is not leakage, however close; in the same millisecond, it is.
    for arrival in (lambda a, b: [a, b], lambda a, b: [b, a]):
        _, facts = run(arrival(call(DAY1), web(DAY1 + timedelta(milliseconds=1))))
        assert measures(facts)["leaked"] == 0
        _, facts = run(arrival(call(DAY1), web(DAY1)))
        assert measures(facts)["leaked"] == 1


def test_across_midnight_each_count_is_on_its_own_events_day() -> None:
    visit = DAY1 + timedelta(hours=23, minutes=30)  # 03-01 23:30
    rang = DAY1 + timedelta(days=1, minutes=15)  # 03-02 00:15
    _, facts = run([web(visit), call(rang), chat(rang + timedelta(hours=2))])
    assert counted(facts) == Counter({
        ("digital", "03-01"): 1,
        ("leaked", "03-01"): 1,  # the visit leaked: counted on the visit's day
        ("contact", "03-02"): 2,
        ("assisted", "03-02"): 2,
        ("after_digital", "03-02"): 2,  # both the call and the chat came after it
        ("repeat", "03-02"): 1,  # the chat repeats the call
        ("followed", "03-02"): 1,
    })  # fmt: skip


def test_repeat_contact_within_seven_days_and_the_same_reason() -> None:
    first = call(DAY1, contact_reason="billing")
    same = chat(DAY1 + timedelta(days=7), contact_reason="billing")  # the edge: inside
    other = message(DAY1 + timedelta(days=3), contact_reason="delivery")
    late = call(DAY1 + timedelta(days=14, milliseconds=1), contact_reason="billing")
    _, facts = run([first, same, other, late])
    assert measures(facts) == Counter({
        "contact": 4,
        "assisted": 3,
        "reasoned": 4,
        "repeat": 2,  # day 3 repeats day 0, day 7 repeats day 0 and 3; day 14 is 7 days after
        # day 7 and one millisecond: repeats nothing
        "reasoned_repeat": 2,  # every contact here gives a reason
        "same_reason_repeat": 1,  # day 7's billing chat repeats day 0's billing call
        "followed": 2,  # day 0 and day 3 were followed within the window; day 7 was not
    })  # fmt: skip


def test_the_same_reason_is_asked_only_of_repeats_where_both_contacts_gave_one() -> None:
    _, facts = run([call(DAY1), chat(DAY1 + timedelta(days=1), contact_reason="billing")])
    assert measures(facts)["repeat"] == 1 and measures(facts)["reasoned_repeat"] == 0
    _, facts = run([
        call(DAY1, contact_reason="delivery"),
        chat(DAY1 + timedelta(days=1), contact_reason="billing"),
        message(DAY1 + timedelta(days=2), contact_reason="billing"),
    ])  # fmt: skip
    assert measures(facts)["reasoned_repeat"] == 2 and measures(facts)["same_reason_repeat"] == 1


def test_two_contacts_in_the_same_millisecond_make_one_repeat_in_either_order() -> None:
    a, b = call(DAY1), chat(DAY1)
    for order in ([a, b], [b, a]):
        _, facts = run(order)
        assert measures(facts)["repeat"] == 1 and measures(facts)["followed"] == 1


def test_a_key_rotation_separates_the_customer_and_the_facts_say_which_key() -> None:
    visit = web(DAY1)
    rang = call(DAY1 + timedelta(hours=1), customer_id=ANNA_AFTER_ROTATION)
    states, facts = run([visit, rang])
    assert set(states) == {ANNA, ANNA_AFTER_ROTATION}
    assert measures(facts)["leaked"] == 0  # lost to the rotation: what the error bar counts
    assert {(f.measure, f.key_id) for f in facts} >= {("digital", "k1"), ("assisted", "k2")}


def test_duplicates_and_events_that_are_not_the_customers_count_nothing() -> None:
    visit = web(DAY1)
    states, facts = run([visit, visit, doc("touch", "email", "outbound", DAY1)])
    assert measures(facts) == Counter({"digital": 1})
    assert len(states[ANNA].events) == 1


def history(rng: random.Random, n: int) -> list[bytes]:
    """A customer's events over three weeks, visits, calls, chats and messages mixed, some
    with reasons, some in the same millisecond."""
    makers = [web, web, call, chat, message]
    out = []
    for _ in range(n):
        when = DAY1 + timedelta(minutes=rng.randrange(0, 21 * 24 * 60, 30))
        reason = rng.choice([{}, {"contact_reason": "billing"}, {"contact_reason": "delivery"}])
        maker = rng.choice(makers)
        out.append(maker(when) if maker is web else maker(when, **reason))
    return out


def without_offsets(facts: list[Fact]) -> Counter[tuple[Any, ...]]:
    return Counter((f.measure, f.ms, f.cell, f.key_id) for f in facts)


@pytest.mark.parametrize("seed", range(5))
def test_any_arrival_order_gives_the_same_counts(seed: int) -> None:
    rng = random.Random(seed)
    events = history(rng, 40)
    _, reference = run(events)
    for _ in range(30):
        shuffled = events[:]
        rng.shuffle(shuffled)
        assert without_offsets(run(shuffled)[1]) == without_offsets(reference)


@pytest.mark.parametrize("cut", [0, 1, 17, 39])
def test_a_replay_from_any_offset_counts_what_the_first_pass_counted_from_there(cut: int) -> None:
    events = history(random.Random(9), 40)
    states, first_pass = run(events)
    (state,) = states.values()
    # The state was stored ahead of ClickHouse: the records from ``cut`` on are decided again.
    replayed = as_of(decode_state(encode(state)), cut)
    again: list[Fact] = []
    for offset in range(cut, len(events)):
        event, ms = decode(events[offset])
        apply(replayed, event, ms, offset, Windows(), again)
    assert again == [f for f in first_pass if f.offset >= cut]
    assert encode(replayed) == encode(state)


def test_the_windows_are_settings() -> None:
    visit, rang = web(DAY1), call(DAY1 + timedelta(hours=3))
    assert measures(run([visit, rang], Windows(leakage_ms=2 * 3_600_000))[1])["leaked"] == 0
    assert measures(run([visit, rang], Windows(leakage_ms=4 * 3_600_000))[1])["leaked"] == 1
    with pytest.raises(ValueError, match="positive"):
        Windows(leakage_ms=0)
