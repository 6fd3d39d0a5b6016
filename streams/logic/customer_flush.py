"""The second stage's flush: records of the customers topic in, the counts they turn on out.

The customers topic holds the first stage's accepted digital touches and contacts, keyed by
customer pseudonym, written at least once (a replay of the first stage writes them again).
:func:`plan_customers` is the second stage's ``plan_flush``: the same batches, progress and
store as the first stage's, the same decoding and dead letters, and per record
:func:`streams.logic.customers.apply` on its customer's state, which counts an event id once
however often it arrives. Pure, like ``plan_flush``: the agent owns Kafka and ClickHouse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from streams.logic import customers
from streams.logic.aggregate import (
    Flush,
    PartitionBatch,
    PartitionProgress,
    PartitionStats,
    StateReader,
    _dead_facts,
    _decode,
    begin,
)
from streams.logic.customers import CustomerState, Fact, Windows
from streams.logic.facts import Facts
from streams.logic.ingest import Rejected

CUSTOMER_FACT = "customer"


def plan_customers(
    batches: Sequence[PartitionBatch],
    progress: Mapping[int, PartitionProgress],
    store: StateReader,
    windows: Windows,
) -> Flush:
    """Decide the records of ``batches`` of the customers topic (several batches of one
    partition come in offset order; those at or below ``progress`` are skipped). Returns the
    insert's facts (one ``customer`` row per count turned on), the customer states to store,
    any record that is not a valid event (dead letters) and the progress after the flush.

    A customer's state keeps every entry until the whole state expires (the sweep, after
    ``JOURNEY_STATE_DAYS`` without an event of the customer, as journeys do). Entries are not
    dropped by age inside a live state: the customers topic interleaves the first stage's
    partitions, which a backfill reads months apart in event time, so an entry "too old"
    for one arrival is the partner of the next (dropping them by the customer's latest event
    lost 19 repeat pairs of 13,387 in the exact-rollups test)."""
    topic = batches[0].topic if batches else ""
    after = {p: PartitionProgress(pp.offset, pp.watermark_ms) for p, pp in progress.items()}
    stats: dict[int, PartitionStats] = {}
    states: dict[int, dict[str, CustomerState]] = {}
    rejected: list[Rejected] = []
    counted: list[tuple[int, list[Fact]]] = []  # per partition: the counts turned on
    for batch in batches:
        p = batch.partition
        begun = begin(batch, after, stats)
        if begun is None:
            continue
        part, st, start = begun
        accepted = _decode(batch, start, st, rejected)
        mine = states.setdefault(p, {})
        unseen = list({e.customer_id for e in accepted.events if e.customer_id not in mine})
        stored = dict(zip(unseen, store.load(p, unseen), strict=True)) if unseen else {}
        out: list[Fact] = []
        for event, ms, i in zip(accepted.events, accepted.times, accepted.indexes, strict=True):
            offset = batch.offsets[i]
            who = event.customer_id
            state = mine.get(who)
            if state is None:
                # As it was before this record: a replay after a crash finds the state
                # ahead of what ClickHouse holds (customers.as_of).
                state = mine[who] = customers.as_of(customers.decode(stored[who]), offset)
            if customers.apply(state, event, ms, offset, windows, out):
                st.events += 1
            else:
                st.duplicates += 1
            if ms > part.watermark_ms:
                part.watermark_ms = ms
        counted.append((p, out))
    facts = Facts()
    for p, out in counted:
        _customer_facts(topic, p, out, facts)
    _dead_facts(rejected, facts)
    return Flush(topic, facts, states, rejected, after, stats)


def _customer_facts(topic: str, partition: int, out: list[Fact], facts: Facts) -> None:
    cells = [f.cell for f in out]
    facts.add(
        CUSTOMER_FACT,
        len(out),
        {
            "measure": [f.measure for f in out],
            "occurred_at": [f.ms for f in out],
            "tenant": [c.tenant for c in cells],
            "industry": [c.industry for c in cells],
            "use_case": [c.use_case for c in cells],
            "channel": [c.channel for c in cells],
            "kind": [c.kind for c in cells],
            "contact_reason": [c.reason for c in cells],
            "key_id": [f.key_id for f in out],
            "kafka_topic": [topic] * len(out),
            "kafka_partition": [partition] * len(out),
            "kafka_offset": [f.offset for f in out],
        },
    )
