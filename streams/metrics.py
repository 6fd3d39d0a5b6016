"""The worker's own counters, rendered in the Prometheus text exposition format.

Kept by the agent (plain integers, no locking: one event loop) and served by the Faust web
server at ``/metrics``. The same figures go to ClickHouse's ``pipeline_health`` table with
every flush, so the dashboard shows freshness without scraping anything.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from streams.logic.aggregate import Flush
from streams.logic.health import PartitionHealth


@dataclass
class WorkerMetrics:
    """Counters since the process started, and the latest gauges per partition."""

    records: Counter[int] = field(default_factory=Counter)
    events: Counter[int] = field(default_factory=Counter)
    duplicates: Counter[int] = field(default_factory=Counter)
    late: Counter[int] = field(default_factory=Counter)
    skipped: Counter[int] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)
    lag: dict[int, int] = field(default_factory=dict)
    # Unacknowledged records the topic deleted before they were applied, per owned partition
    # (read from ingest_losses when the partitions were assigned).
    lost: dict[int, int] = field(default_factory=dict)
    watermark_ms: dict[int, int] = field(default_factory=dict)
    last_flush: dict[int, float] = field(default_factory=dict)
    flushes: int = 0
    rows: int = 0
    insert_failures: int = 0
    fenced_batches: int = 0
    flush_seconds: float = 0.0
    started: float = field(default_factory=time.time)

    def observe(self, flushes: Sequence[Flush], rows: int, seconds: float, at: float) -> None:
        """Count one insert (of ``rows`` fact rows, taking ``seconds``) of ``flushes``, in
        order, that reached ClickHouse."""
        self.flushes += 1
        self.rows += rows
        self.flush_seconds += seconds
        for flush in flushes:
            for p, st in flush.stats.items():
                self.records[p] += st.records
                self.events[p] += st.events
                self.duplicates[p] += st.duplicates
                self.late[p] += st.late
                self.dead_letters.update(st.dead_codes)
                self.watermark_ms[p] = flush.progress[p].watermark_ms
                self.last_flush[p] = at

    def render(
        self,
        topic: str,
        health: list[PartitionHealth] | None = None,
        store_memory: dict[str, int] | None = None,
        prefix: str = "journey",
    ) -> str:
        """The Prometheus text format (version 0.0.4); ``health`` is measured now (lag and
        idle time per owned partition), else the lag seen at the last flush is shown;
        ``store_memory`` is the state store's memory by kind, measured now. ``prefix`` names
        the families: ``journey`` for the first stage, ``journey_customers`` for the second."""
        out: list[str] = []
        lag = {h.partition: h.lag for h in health} if health is not None else self.lag

        def family(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
            out.append(f"# HELP {prefix}_{name} {help_}")
            out.append(f"# TYPE {prefix}_{name} {kind}")
            for labels, value in samples:
                out.append(f"{prefix}_{name}{labels} {_number(value)}")

        def per_partition(
            values: dict[int, int] | dict[int, float] | Counter[int],
        ) -> list[tuple[str, float]]:
            return [
                (f'{{topic="{topic}",partition="{p}"}}', float(v))
                for p, v in sorted(values.items())
            ]

        family(
            "records_total", "counter", "Records consumed and decided.", per_partition(self.records)
        )
        family(
            "events_total",
            "counter",
            "Valid first-seen events applied.",
            per_partition(self.events),
        )
        family(
            "duplicates_total",
            "counter",
            "Events whose event_id was already counted.",
            per_partition(self.duplicates),
        )
        family(
            "late_events_total",
            "counter",
            "Events beyond the grace period (applied as corrections).",
            per_partition(self.late),
        )
        family(
            "replayed_records_total",
            "counter",
            "Records skipped because ClickHouse already held them (replays after a restart).",
            per_partition(self.skipped),
        )
        family(
            "dead_letters_total",
            "counter",
            "Records that broke the contract, by reason code.",
            [(f'{{code="{_escape(c)}"}}', float(n)) for c, n in sorted(self.dead_letters.items())],
        )
        family(
            "lost_offsets",
            "gauge",
            "Records the topic deleted (retention, delete-records) before any worker applied "
            "them, not yet acknowledged (journey losses --acknowledge).",
            per_partition(self.lost),
        )
        family(
            "consumer_lag",
            "gauge",
            "Records between what ClickHouse holds and the partition's end.",
            per_partition(lag),
        )
        if health is not None:
            family(
                "seconds_since_progress",
                "gauge",
                "Seconds since the partition last reached ClickHouse (or was assigned).",
                per_partition({h.partition: h.idle_s for h in health}),
            )
            family(
                "stalled_partitions",
                "gauge",
                "Owned partitions with records waiting and no progress for longer than "
                "JOURNEY_STALL_AFTER_S.",
                [("", float(sum(h.stalled for h in health)))],
            )
        family(
            "watermark_seconds",
            "gauge",
            "Event-time watermark of the partition.",
            [(labels, v / 1000) for labels, v in per_partition(self.watermark_ms)],
        )
        family(
            "last_flush_timestamp_seconds",
            "gauge",
            "When the partition last reached ClickHouse.",
            per_partition(self.last_flush),
        )
        family("flushes_total", "counter", "Inserts into ClickHouse.", [("", self.flushes)])
        family("fact_rows_total", "counter", "Rows inserted into ingest_facts.", [("", self.rows)])
        family(
            "insert_failures_total",
            "counter",
            "Failed insert attempts (each retried).",
            [("", self.insert_failures)],
        )
        family(
            "fenced_batches_total",
            "counter",
            "Batches whose partitions had moved to another worker by the time they landed "
            "(ClickHouse dropped their rows; the new owner applies them).",
            [("", self.fenced_batches)],
        )
        family(
            "flush_seconds_total", "counter", "Time spent inserting.", [("", self.flush_seconds)]
        )
        if store_memory is not None:
            family(
                "store_memory_bytes",
                "gauge",
                "Journey store (RocksDB) memory by kind; memtables are charged to the block "
                "cache, so block_cache includes them.",
                [(f'{{kind="{k}"}}', float(v)) for k, v in sorted(store_memory.items())],
            )
        family("start_time_seconds", "gauge", "When the worker started.", [("", self.started)])
        return "\n".join(out) + "\n"


def _number(value: float) -> str:
    """A sample value in full: ``:g`` keeps six digits, so a counter past a million would be
    rounded (12,345,678 records read as 1.23457e+07) and its rate would jump."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
