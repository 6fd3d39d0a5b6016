"""``journey verify``: recompute every rollup from the source topic and compare with ClickHouse.

The truth is computed in two steps, each from one source of truth:

1. **The fact rows**, here, the plain way, independently of the worker's incremental logic:
   read each partition from its first offset to its end, decide every record with the
   contract, de-duplicate, join, in memory. Same documented semantics, none of the worker's
   machinery (no offsets in state, no replays, no batches, no fence).
2. **The tables**, from the fact rows, by the very view definitions the server runs
   (``streams/sql/views/``, streams/clickhouse/views.py): each view's SELECT runs on ClickHouse over
   the truth's rows, sent with the query as external data. A new rollup is checked as soon as
   its view file says how (``-- verify:``), with no code here.

If the worker double counts after a crash, loses a batch or lets a stale owner through the
fence, the comparison says which table, where and by how much. (A view whose definition is
wrong is wrong on both sides: what a metric *means* is proven by the unit tests of the logic
and the named queries' tests, not here.)

Semantics (docs/exactly-once.md): an event counts once per (journey_id, event_id); lateness
is against the partition's event-time watermark of first-seen events; "first" is first by
event time, never by arrival: a journey is attributed to the hour of its earliest event; a
send and its earliest read signal make one read pair in the send's hour, latency clamped at
zero; a send and its earliest reply (``reply_proxy``, the first read signal or a later one)
make one replied send, the same way; so does a send and the customer's own earliest message
answering it (``message_received`` with ``in_reply_to``, contract 1.1); a social or chat
conversation (``conversation_id``) is opened by the customer's earliest message in it and first
answered by the brand's earliest reply at or after that.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.clickhouse.views import View
from streams.clickhouse.views import load as load_views
from streams.decoder import Event
from streams.errors import JourneyError
from streams.kafka.security import PLAINTEXT, KafkaSettings
from streams.logic import customers
from streams.logic.aggregate import Rules
from streams.logic.buckets import call_bucket, latency_bucket
from streams.logic.customers import Windows
from streams.logic.facts import FACT_DEFAULTS, FACT_TYPES, Facts, event_columns
from streams.logic.ingest import Rejected, SourceRecord, decide
from streams.logic.journey_state import id_hash
from streams.settings import Settings
from streams.sinks.native import native_block

Key = tuple[Any, ...]
Table = dict[Key, tuple[int, ...]]
TRUTH = "truth_facts"  # the truth's fact rows, as the views read them (external data)


@dataclass
class Truth:
    """The fact rows the source topic implies (the rows ``ingest_facts`` must have received,
    fenced), derived here independently of the worker's incremental logic."""

    facts: Facts = field(default_factory=Facts)
    records: int = 0
    duplicates: int = 0


def compute_truth(
    partitions: Iterable[Iterable[SourceRecord]], rules: Rules, windows: Windows | None = None
) -> Truth:
    """The fact rows implied by the records, each partition given in offset order.

    "First" is first by event time (docs/exactly-once.md): a journey's earliest event, a
    message's earliest send, earliest read signal and earliest reply, each the minimum of
    (event time, the fields counted) over every event, whatever order they arrived in. So
    the truth is one net row per journey and per pair, where the worker writes corrections
    as it goes (the views sum both the same)."""
    truth = Truth()
    seen: set[tuple[str, str]] = set()
    events: list[Placed] = []
    rejected: list[Rejected] = []
    for records in partitions:
        watermark = 0
        for record in records:
            truth.records += 1
            outcome = decide(record)
            if isinstance(outcome, Rejected):
                rejected.append(outcome)
                continue
            e, at = outcome.event, outcome.occurred_ms
            if (e.journey_id, e.event_id) in seen:
                truth.duplicates += 1
                continue
            seen.add((e.journey_id, e.event_id))
            # Lateness is about arrival by definition: behind the partition's watermark.
            late = int(at < watermark - rules.grace_ms)
            events.append(Placed(e, at, late, record.partition, record.offset))
            watermark = max(watermark, at)
    add_event_facts(truth.facts, events)
    _dead_rows(truth.facts, rejected)
    if windows is not None:  # the customers stage runs: its counts too
        add_customer_facts(truth.facts, [(p.event, p.at) for p in events], windows)
    return truth


class Placed(NamedTuple):
    """A first-seen event, its time (UTC ms), whether it arrived late, and where it came from."""

    event: Event
    at: int
    late: int
    partition: int
    offset: int


def add_event_facts(facts: Facts, events: Iterable[Placed]) -> None:
    """The fact rows first-seen events imply: one per event, per journey (in the cell of its
    earliest event), per send with its first read signal and first reply, per conversation.
    Given every event of the journeys concerned, in any order, the rows are the same: "first"
    is first by event time (:func:`compute_truth`)."""
    firsts: dict[str, tuple[int, str, str, str, Event]] = {}
    channels: dict[str, set[str]] = defaultdict(set)
    sends: dict[tuple[str, str], tuple[int, str, str, str, str, str, bool, Event]] = {}
    reads: dict[tuple[str, str], tuple[int, str, Event]] = {}
    replies: dict[tuple[str, str], tuple[int, str, Event]] = {}
    openings: dict[tuple[str, str], tuple[int, str, str, str, str, Event]] = {}
    answers: dict[tuple[str, str], list[int]] = defaultdict(list)
    placed: list[Placed] = []
    for p in events:
        placed.append(p)
        e, at = p.event, p.at
        _keep_min(firsts, e.journey_id, (at, e.tenant, e.industry, e.use_case, e))
        channels[e.journey_id].add(e.channel)
        message = (e.journey_id, e.message_id)
        if e.kind == "message_sent":
            counted = (e.purpose, e.channel, e.tenant, e.industry, e.use_case)
            _keep_min(sends, message, (at, *counted, bool(e.reply_enabled), e))
        elif e.kind == "message_receipt" and e.read_signal:
            _keep_min(reads, message, (at, e.read_signal, e))
            if e.read_signal == "reply_proxy":
                _keep_min(replies, message, (at, e.read_signal, e))
        elif e.kind == "message_received" and e.in_reply_to:  # the customer's own reply
            _keep_min(replies, (e.journey_id, e.in_reply_to), (at, e.kind, e))
        if e.conversation_id is not None:  # a social or chat conversation (1.1)
            thread = (e.journey_id, e.conversation_id)
            if e.kind == "touch" and e.direction == "outbound":
                answers[thread].append(at)
            else:
                cell = (e.tenant, e.industry, e.use_case, e.channel)
                _keep_min(openings, thread, (at, *cell, e))
    _interaction_rows(facts, placed)
    _journey_rows(facts, firsts, channels)
    for fact, signals in (("read_pair", reads), ("reply", replies)):
        pairs = [(send[-1], send[0], signals[m]) for m, send in sends.items() if m in signals]
        _pair_rows(facts, fact, pairs)
    _conversation_rows(facts, openings, answers)


def customer_measures(
    events: Iterable[tuple[Event, int]], windows: Windows
) -> list[tuple[str, int, Event]]:
    """The customers stage's counts (docs/customer-metrics.md), the plain way: every pair of
    each customer's events compared, none of the stage's incremental state; (measure, event
    time, event) per count. An event id counts once per customer (the stage's topic is
    written at least once)."""
    by_customer: dict[str, dict[str, tuple[int, int, Event]]] = defaultdict(dict)
    for e, at in events:
        if customers.is_own(e):
            by_customer[e.customer_id].setdefault(e.event_id, (at, id_hash(e.event_id.encode()), e))
    rows: list[tuple[str, int, Event]] = []  # (measure, time, event)
    leak, repeat = windows.leakage_ms, windows.repeat_ms
    for found in by_customer.values():
        ordered = sorted(found.values(), key=lambda x: (x[0], x[1]))
        visits = [(at, e) for at, _, e in ordered if customers.is_digital(e)]
        calls = [(at, e) for at, _, e in ordered if customers.is_assisted(e)]
        contacts = [(at, key, e) for at, key, e in ordered if customers.is_contact(e)]
        for at, e in visits:
            rows.append(("digital", at, e))
            if any(0 <= c - at <= leak for c, _ in calls):
                rows.append(("leaked", at, e))
        for at, e in calls:
            if any(0 <= at - v <= leak for v, _ in visits):
                rows.append(("after_digital", at, e))
        for i, (at, _, e) in enumerate(contacts):
            rows.append(("contact", at, e))
            if customers.is_assisted(e):
                rows.append(("assisted", at, e))
            reason = e.contact_reason or ""
            if reason:
                rows.append(("reasoned", at, e))
            before = [b for b in contacts[:i] if at - b[0] <= repeat]
            if before:
                rows.append(("repeat", at, e))
            if reason and any(b[2].contact_reason for b in before):
                rows.append(("reasoned_repeat", at, e))
            if reason and any(b[2].contact_reason == reason for b in before):
                rows.append(("same_reason_repeat", at, e))
            if any(a[0] - at <= repeat for a in contacts[i + 1 :]):
                rows.append(("followed", at, e))
    return rows


def add_customer_facts(facts: Facts, events: Iterable[tuple[Event, int]], windows: Windows) -> None:
    """The customers stage's counts as fact rows (:func:`customer_measures`)."""
    rows = customer_measures(events, windows)
    facts.add(
        "customer",
        len(rows),
        {
            "measure": [m for m, _, _ in rows],
            "occurred_at": [at for _, at, _ in rows],
            "tenant": [e.tenant for _, _, e in rows],
            "industry": [e.industry for _, _, e in rows],
            "use_case": [e.use_case for _, _, e in rows],
            "channel": [e.channel for _, _, e in rows],
            "kind": [e.kind for _, _, e in rows],
            "contact_reason": [e.contact_reason or "" for _, _, e in rows],
            "key_id": [customers.key_id(e.customer_id) for _, _, e in rows],
        },
    )


def _keep_min(found: dict[Any, Any], key: Any, candidate: tuple[Any, ...]) -> None:
    """Keep the smallest candidate per key by its counted fields (the last item, the event
    itself, never takes part: candidates alike in every counted field are interchangeable)."""
    current = found.get(key)
    if current is None or candidate[:-1] < current[:-1]:
        found[key] = candidate


def _interaction_rows(facts: Facts, rows: list[Placed]) -> None:
    durations = [round((p.event.duration_s or 0) * 1000) for p in rows]
    facts.add(
        "interaction",
        len(rows),
        {
            **event_columns([p.event for p in rows]),
            "occurred_at": [p.at for p in rows],
            "late": [p.late for p in rows],
            "kafka_partition": [p.partition for p in rows],
            "kafka_offset": [p.offset for p in rows],
            "duration_ms": durations,
            "bucket_s": [call_bucket(ms) if ms else 0 for ms in durations],
        },
    )


def _journey_rows(
    facts: Facts,
    firsts: dict[str, tuple[int, str, str, str, Event]],
    channels: dict[str, set[str]],
) -> None:
    """Each journey once, with the channels it used, in the cell of its earliest event."""
    rows = list(firsts.items())
    facts.add(
        "journey",
        len(rows),
        {
            "kind": [first[-1].kind for _, first in rows],
            "occurred_at": [first[0] for _, first in rows],
            "tenant": [first[1] for _, first in rows],
            "industry": [first[2] for _, first in rows],
            "use_case": [first[3] for _, first in rows],
            "channel": [first[-1].channel for _, first in rows],
            "journey_id": [journey for journey, _ in rows],
            "journeys": [1] * len(rows),
            "journey_channels": [len(channels[journey]) for journey, _ in rows],
        },
    )


def _pair_rows(
    facts: Facts, fact: str, rows: list[tuple[Event, int, tuple[int, str, Event]]]
) -> None:
    """A send and its first read signal (or reply), in the send's cell; latency clamped at
    zero."""
    latencies = [max(0, read[0] - at) for _, at, read in rows]
    sends = [send for send, _, _ in rows]
    facts.add(
        fact,
        len(rows),
        {
            **event_columns(sends),
            "occurred_at": [at for _, at, _ in rows],
            "read_signal": [read[1] for _, _, read in rows],
            "duration_ms": latencies,
            "bucket_s": [latency_bucket(ms) for ms in latencies],
        },
    )


def _conversation_rows(
    facts: Facts,
    openings: dict[tuple[str, str], tuple[int, str, str, str, str, Event]],
    answers: dict[tuple[str, str], list[int]],
) -> None:
    """Each conversation once, in its opening's cell: answered by the brand's earliest reply
    at or after the opening, or unanswered."""
    rows = []
    for thread, (at, tenant, industry, use_case, channel, _) in openings.items():
        response = min((ms for ms in answers.get(thread, ()) if ms >= at), default=None)
        rows.append((thread[0], at, tenant, industry, use_case, channel, response))
    latencies = [r[6] - r[1] if r[6] is not None else 0 for r in rows]
    facts.add(
        "conversation",
        len(rows),
        {
            "journey_id": [r[0] for r in rows],
            "occurred_at": [r[1] for r in rows],
            "tenant": [r[2] for r in rows],
            "industry": [r[3] for r in rows],
            "use_case": [r[4] for r in rows],
            "channel": [r[5] for r in rows],
            "status": ["unanswered" if r[6] is None else "answered" for r in rows],
            "duration_ms": latencies,
            "bucket_s": [latency_bucket(ms) for ms in latencies],
        },
    )


def _dead_rows(facts: Facts, rejected: list[Rejected]) -> None:
    facts.add(
        "dead_letter",
        len(rejected),
        {
            "kafka_partition": [r.record.partition for r in rejected],
            "kafka_offset": [r.record.offset for r in rejected],
            "code": [r.error.code for r in rejected],
            "reason": [str(r.error) for r in rejected],
        },
    )


@dataclass(frozen=True)
class Comparison:
    """One table ``journey verify`` checks: its dimensions and measures (``("rows",)``: rows
    counted), and the view whose definition computes what it must hold."""

    view: View
    dims: tuple[str, ...]
    measures: tuple[str, ...]

    @property
    def table(self) -> str:
        return self.view.table

    def aggregate(self, source: str, where: str = "") -> str:
        """The table's content summed over its dimensions, read from ``source`` (the rows
        ``where`` says, a condition with bound parameters only)."""
        values = (
            "count()"
            if self.measures == ("rows",)
            else ", ".join(f"sum({m})" for m in self.measures)
        )
        condition = f" WHERE {where}" if where else ""
        # Identifiers from the view files and the server's own catalogue, never user input.
        return f"SELECT {', '.join(self.dims)}, {values} FROM {source}{condition} GROUP BY ALL"  # noqa: S608


def comparisons(client: Client, views: list[View] | None = None) -> list[Comparison]:
    """What to compare, from the view definitions (streams/sql/views/): every view that declares a
    check; for ``sums`` the dimensions are the table's sorting key (the summing key)."""
    out = []
    for view in load_views() if views is None else views:
        if view.check.mode == "rows":
            out.append(Comparison(view, view.check.columns, ("rows",)))
        elif view.check.mode == "sums":
            dims, measures = _summing_key(client, view.table)
            out.append(Comparison(view, dims, measures))
    return out


def _summing_key(client: Client, table: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(sorting-key columns, the others) of ``table`` (on a cluster: of its shard table)."""
    for name in (f"{table}_local", table):
        rows = client.query(
            "SELECT name, is_in_sorting_key FROM system.columns"
            " WHERE database = currentDatabase() AND table = {table:String} ORDER BY position",
            parameters={"table": name},
        ).result_rows
        if rows:
            dims = tuple(str(n) for n, key in rows if key)
            return dims, tuple(str(n) for n, key in rows if not key)
    raise JourneyError(f"verify: the table {table} does not exist; run journey migrate")


def _read(rows: Iterable[Sequence[Any]], width: int) -> Table:
    out: Table = {}
    for row in rows:
        values = tuple(int(v) for v in row[width:])
        if any(values):
            out[tuple(row[:width])] = values
    return out


@dataclass(frozen=True)
class Scope:
    """Which rows of each table to compare: a condition per table (bound parameters only),
    and the parameters' values. The default compares every row."""

    where: Callable[[Comparison], str] = lambda _: ""
    parameters: dict[str, Any] = field(default_factory=dict)


WHOLE = Scope()


def measured(client: Client, checks: list[Comparison], scope: Scope = WHOLE) -> dict[str, Table]:
    """Every checked table as ClickHouse holds it (summed: parts may not be merged yet)."""
    return {
        c.table: _read(
            client.query(
                c.aggregate(c.table, scope.where(c)), parameters=scope.parameters
            ).result_rows,
            len(c.dims),
        )
        for c in checks
    }


def expected(
    client: Client, facts: Facts, checks: list[Comparison], scope: Scope = WHOLE
) -> dict[str, Table]:
    """Every checked table as its view computes it from the truth's fact rows: the same
    definition the server runs on the worker's rows, run on ClickHouse itself with the truth
    sent as external data (no table is created: the analyst account can run it)."""
    from clickhouse_connect.driver.external import ExternalData

    out: dict[str, Table] = {}
    uploads: dict[tuple[str, ...], bytes] = {}  # the hourly and daily twins read the same columns
    for c in checks:
        select = c.view.select_from(TRUTH)
        columns = tuple(n for n in FACT_TYPES if re.search(rf"\b{n}\b", select))
        if columns not in uploads:
            uploads[columns] = _native(facts, list(columns))
        data = ExternalData(
            file_name=TRUTH,
            data=uploads[columns],
            fmt="Native",
            structure=", ".join(f"{n} {FACT_TYPES[n]}" for n in columns),
        )
        query = c.aggregate(f"({select})", scope.where(c))
        rows = client.query(query, parameters=scope.parameters, external_data=data).result_rows
        out[c.table] = _read(rows, len(c.dims))
    return out


def _native(facts: Facts, columns: list[str]) -> bytes:
    """``columns`` of ``facts`` in ClickHouse's Native format."""
    if not facts.rows:
        return b""
    return native_block({n: FACT_TYPES[n] for n in columns}, FACT_DEFAULTS, facts.blocks)


def check(client: Client, truth: Truth, views: list[View] | None = None) -> list[TableVerdict]:
    """Every checked table, as the truth says it must be and as ClickHouse holds it."""
    checks = comparisons(client, views)
    return compare(checks, expected(client, truth.facts, checks), measured(client, checks))


def applied_records(client: Client, topic: str) -> int:
    """How many records of ``topic`` ClickHouse holds the effects of (last offset + 1, summed
    over partitions; offsets start at 0 on a new topic)."""
    query = queries.load("partition_progress")
    rows = client.query(query.sql, parameters={"topic": topic}).result_rows
    return sum(int(row[1]) + 1 for row in rows)


@dataclass
class TableVerdict:
    """How one table compares: exact, or how much is missing and how much is extra."""

    table: str
    expected: tuple[int, ...]
    actual: tuple[int, ...]
    missing_keys: int
    extra_keys: int
    differing_keys: int
    examples: list[str]

    @property
    def exact(self) -> bool:
        return not (self.missing_keys or self.extra_keys or self.differing_keys)

    @property
    def verdict(self) -> str:
        if self.exact:
            return "exact"
        if all(a >= e for a, e in zip(self.actual, self.expected, strict=True)):
            return "duplicated"
        if all(a <= e for a, e in zip(self.actual, self.expected, strict=True)):
            return "lost"
        return "wrong"


def compare(
    checks: list[Comparison], expected: dict[str, Table], actual: dict[str, Table]
) -> list[TableVerdict]:
    """Table by table and key by key: what differs."""
    verdicts = []
    for c in checks:
        want, got = expected.get(c.table, {}), actual.get(c.table, {})
        width = len(c.measures)

        def total(t: Table, width: int = width) -> tuple[int, ...]:
            sums = [0] * width
            for values in t.values():
                for i, v in enumerate(values):
                    sums[i] += v
            return tuple(sums)

        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        differing = [k for k in want if k in got and want[k] != got[k]]
        examples = [f"missing {k}: {want[k]}" for k in missing[:3]]
        examples += [f"extra {k}: {got[k]}" for k in extra[:3]]
        examples += [f"{k}: expected {want[k]}, got {got[k]}" for k in differing[:3]]
        verdicts.append(
            TableVerdict(
                c.table,
                total(want),
                total(got),
                len(missing),
                len(extra),
                len(differing),
                examples,
            )
        )
    return verdicts


def read_partitions(
    bootstrap: str, topic: str, security: KafkaSettings = PLAINTEXT
) -> list[list[SourceRecord]]:
    """Every record of ``topic`` from its first offset to its current end, per partition."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        **security.client_options(),
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    try:
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out: dict[int, list[SourceRecord]] = {p: [] for p in partitions}
        remaining = {tp for tp in tps if ends[tp] > consumer.position(tp)}
        while remaining:
            for tp, messages in consumer.poll(timeout_ms=1000, max_records=50_000).items():
                for m in messages:
                    if m.offset < ends[tp]:
                        out[tp.partition].append(
                            SourceRecord(topic, tp.partition, m.offset, m.timestamp, m.value or b"")
                        )
                if consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return [out[p] for p in partitions]
    finally:
        consumer.close()


def topic_records(bootstrap: str, topic: str, security: KafkaSettings = PLAINTEXT) -> int:
    """How many records ``topic`` holds now (the partitions' ends, summed; 0 if it does not
    exist)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, **security.client_options(), enable_auto_commit=False
    )
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(tps).values()) if tps else 0
    finally:
        consumer.close()


def customers_behind(settings: Settings, client: Client) -> int:
    """How many records of the customers topic the customers stage has not applied yet (0
    when the stage does not run): `journey verify`'s customer counts are exact only once the
    stage has caught up with what the ingest stage handed on."""
    if not settings.customer_stage:
        return 0
    held = topic_records(settings.kafka.bootstrap, settings.topic_customers, settings.kafka)
    return max(0, held - applied_records(client, settings.topic_customers))


def summarise(verdicts: list[TableVerdict]) -> Iterator[str]:
    """One line per table, then the first differences."""
    for v in verdicts:
        yield f"{v.table:32} {v.verdict:10} expected {v.expected} measured {v.actual}"
        for example in v.examples:
            yield f"    {example}"
