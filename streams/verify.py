"""``journey verify``: recompute every rollup from the source topic and compare with ClickHouse.

The truth is computed here the plain way, independently of the worker's incremental logic:
read each partition from its first offset to its end, decide every record with the contract,
and aggregate in memory. Same documented semantics, none of the worker's machinery (no
offsets in state, no replays, no ClickHouse): if the worker double counts after a crash or
loses a batch, the comparison says where and by how much.

Semantics (docs/exactly-once.md): an event counts once per (journey_id, event_id); lateness
is against the partition's event-time watermark of first-seen events; a journey is attributed
to the hour of its first-seen event; a send and its first read signal make one read pair in
the send's hour, latency clamped at zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from streams import queries
from streams.kafka_security import PLAINTEXT, KafkaSecurity
from streams.logic.aggregate import Rules
from streams.logic.buckets import call_bucket, latency_bucket
from streams.logic.ingest import Rejected, SourceRecord, decide

Key = tuple[Any, ...]
Table = dict[Key, tuple[int, ...]]

# What each rollup is compared on: its dimensions and its measures, as ClickHouse reads them.
ROLLUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rollup_interactions_hourly": (
        ("hour", "tenant", "industry", "use_case", "channel", "kind"),
        ("interactions", "late"),
    ),
    "rollup_calls_hourly": (
        (
            "hour",
            "tenant",
            "industry",
            "use_case",
            "kind",
            "outcome",
            "purpose",
            "duration_bucket_s",
        ),
        ("calls", "duration_ms", "late"),
    ),
    "rollup_messaging_hourly": (
        (
            "hour",
            "tenant",
            "industry",
            "use_case",
            "channel",
            "purpose",
            "status",
            "read_signal",
            "latency_bucket_s",
        ),
        ("sends", "receipts", "read_pairs", "read_latency_ms", "read_within_3_min"),
    ),
    "rollup_journeys_hourly": (
        ("hour", "tenant", "industry", "use_case"),
        ("journeys", "channels"),
    ),
    "rollup_chatbot_hourly": (
        ("hour", "tenant", "industry", "use_case", "channel"),
        ("sessions", "handed_off"),
    ),
    "interactions": (("kind",), ("rows",)),
    "dead_letters": (("code",), ("rows",)),
}
# Each hourly rollup has a daily twin (migration 0004) with the same dimensions, day for hour.
DAILY = {name: name.replace("_hourly", "_daily") for name in ROLLUPS if name.endswith("_hourly")}
for _hourly, _daily in DAILY.items():
    ROLLUPS[_daily] = (("day", *ROLLUPS[_hourly][0][1:]), ROLLUPS[_hourly][1])


def _hour(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 3_600_000 * 3600, UTC).replace(tzinfo=None)


@dataclass
class Truth:
    """Every rollup as the source topic says it must be."""

    tables: dict[str, dict[Key, list[int]]] = field(
        default_factory=lambda: {name: defaultdict(lambda: [0, 0, 0, 0, 0]) for name in ROLLUPS}
    )
    records: int = 0
    duplicates: int = 0

    def add(self, table: str, key: Key, *values: int) -> None:
        acc = self.tables[table][key]
        for i, v in enumerate(values):
            acc[i] += v

    def frozen(self) -> dict[str, Table]:
        daily: dict[str, dict[Key, list[int]]] = {}
        for hourly, name in DAILY.items():
            sums = daily[name] = defaultdict(lambda: [0, 0, 0, 0, 0])
            for (hour, *rest), values in self.tables[hourly].items():
                acc = sums[(hour.date(), *rest)]
                for i, v in enumerate(values):
                    acc[i] += v
        out: dict[str, Table] = {}
        for name, (_, measures) in ROLLUPS.items():
            source = daily[name] if name in daily else self.tables[name]
            out[name] = {k: tuple(v[: len(measures)]) for k, v in source.items() if any(v)}
        return out


def compute_truth(partitions: Iterable[Iterable[SourceRecord]], rules: Rules) -> Truth:
    """The rollups implied by the records, each partition given in offset order."""
    truth = Truth()
    seen: set[tuple[str, str]] = set()
    first_seen: dict[str, tuple[int, str, str, str]] = {}
    channels: dict[str, set[str]] = defaultdict(set)
    sends: dict[tuple[str, str], tuple[int, str, str, str, str, str]] = {}
    reads: dict[tuple[str, str], tuple[int, str]] = {}
    for records in partitions:
        watermark = 0
        for record in records:
            truth.records += 1
            outcome = decide(record)
            if isinstance(outcome, Rejected):
                truth.add("dead_letters", (outcome.error.code,), 1)
                continue
            e, at = outcome.event, outcome.occurred_ms
            if (e.journey_id, e.event_id) in seen:
                truth.duplicates += 1
                continue
            seen.add((e.journey_id, e.event_id))
            late = int(at < watermark - rules.grace_ms)
            watermark = max(watermark, at)
            hour = _hour(at)
            dims = (e.tenant, e.industry, e.use_case)
            truth.add("interactions", (e.kind,), 1)
            truth.add("rollup_interactions_hourly", (hour, *dims, e.channel, e.kind), 1, late)
            if e.kind in ("ivr_call", "notification_call"):
                ms = round(e.duration_s * 1000)
                key: Key = (hour, *dims, e.kind, e.outcome, e.purpose, call_bucket(ms))
                truth.add("rollup_calls_hourly", key, 1, ms, late)
            if e.kind == "chatbot_session":
                truth.add("rollup_chatbot_hourly", (hour, *dims, e.channel), 1, int(e.handed_off))
            if e.journey_id not in first_seen:
                first_seen[e.journey_id] = (at, *dims)
                truth.add("rollup_journeys_hourly", (hour, *dims), 1, 0)
            if e.channel not in channels[e.journey_id]:
                channels[e.journey_id].add(e.channel)
                f_at, *f_dims = first_seen[e.journey_id]
                truth.add("rollup_journeys_hourly", (_hour(f_at), *f_dims), 0, 1)
            message = (e.journey_id, e.message_id)
            if e.kind == "message_sent":
                key = (hour, *dims, e.channel, e.purpose, "", "", 0)
                truth.add("rollup_messaging_hourly", key, 1, 0, 0, 0, 0)
                if message not in sends:
                    sends[message] = (at, e.purpose, e.channel, *dims)
            elif e.kind == "message_receipt":
                key = (hour, *dims, e.channel, "", e.status, e.read_signal or "", 0)
                truth.add("rollup_messaging_hourly", key, 0, 1, 0, 0, 0)
                if e.read_signal and message not in reads:
                    reads[message] = (at, e.read_signal)
    for message, (sent_at, purpose, channel, tenant, industry, use_case) in sends.items():
        read = reads.get(message)
        if read is None:
            continue
        latency = max(0, read[0] - sent_at)
        key = (
            _hour(sent_at),
            tenant,
            industry,
            use_case,
            channel,
            purpose,
            "",
            read[1],
            latency_bucket(latency),
        )
        truth.add("rollup_messaging_hourly", key, 0, 0, 1, latency, int(latency <= 180_000))
    return truth


def applied_records(client: Client, topic: str) -> int:
    """How many records of ``topic`` ClickHouse holds the effects of (last offset + 1, summed
    over partitions; offsets start at 0 on a new topic)."""
    query = queries.load("partition_progress")
    rows = client.query(query.sql, parameters={"topic": topic}).result_rows
    return sum(int(row[1]) + 1 for row in rows)


def measured(client: Client) -> dict[str, Table]:
    """Every rollup as ClickHouse holds it (summed: parts may not be merged yet)."""
    out: dict[str, Table] = {}
    for table, (dims, measures) in ROLLUPS.items():
        if measures == ("rows",):
            sql = f"SELECT {', '.join(dims)}, count() FROM {table} GROUP BY ALL"  # noqa: S608
        else:
            sums = ", ".join(f"sum({m})" for m in measures)
            sql = f"SELECT {', '.join(dims)}, {sums} FROM {table} GROUP BY ALL"  # noqa: S608
        result: Table = {}
        for row in client.query(sql).result_rows:
            values = tuple(int(v) for v in row[len(dims) :])
            if any(values):
                key = tuple(
                    v.replace(tzinfo=None) if isinstance(v, datetime) else v
                    for v in row[: len(dims)]
                )
                result[key] = values
        out[table] = result
    return out


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


def compare(expected: dict[str, Table], actual: dict[str, Table]) -> list[TableVerdict]:
    """Table by table and key by key: what differs."""
    verdicts = []
    for table, (_, measures) in ROLLUPS.items():
        want, got = expected.get(table, {}), actual.get(table, {})
        width = len(measures)

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
                table, total(want), total(got), len(missing), len(extra), len(differing), examples
            )
        )
    return verdicts


def read_partitions(
    bootstrap: str, topic: str, security: KafkaSecurity = PLAINTEXT
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


def summarise(verdicts: list[TableVerdict]) -> Iterator[str]:
    """One line per table, then the first differences."""
    for v in verdicts:
        yield f"{v.table:28} {v.verdict:10} expected {v.expected} measured {v.actual}"
        for example in v.examples:
            yield f"    {example}"
