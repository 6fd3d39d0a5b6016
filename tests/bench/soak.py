"""The pipeline under steady calibrated live traffic for an hour (not a test): memory, lag,
freshness and ClickHouse parts over time, and every count exact at the end.

A broker, an embedded ClickHouse and one worker (both stages), the chaos suite's lab
(tests/chaos/scenarios.py). Calibrated live traffic (5% late, 3% duplicates, receipts before
their sends, overtaken signals) is published at ``--rate`` events a second for ``--minutes``.
Every ``--every`` seconds the soak samples:

- resident memory (VmRSS) of every process: the broker, ClickHouse, the worker's supervisor
  and the worker itself;
- lag: the records published and not yet applied (the partitions' ends against the progress
  ClickHouse holds);
- freshness: for each raw row ClickHouse stored since the last sample, the time from the
  record's Kafka timestamp to its insert (``ingested_at``), p50 and p99 (the record
  timestamps are read by tailing the topic);
- ClickHouse's active parts in the soak's database, and the largest count in one partition of
  one table (what "too many parts" is counted by).

After the traffic stops and the worker drains, ``journey verify --offsets`` checks every record
of the topic against the raw tables and ``journey verify --from/--to`` every rollup against
the raw table, both in bounded memory. The report (``build/soak.md``) gives each process's RSS
after ten minutes and its largest departure from it afterwards (the aim: within 15%), the
freshness p50/p99 over the run (aim: p99 at most 2 s at 1,000 events/s), and the plots
``build/soak-*.png``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from streams.clickhouse.client import connect
from streams.settings import Settings
from streams.tools import verify
from tests.chaos.scenarios import Lab, Traffic
from tests.support import REPO, run_journey, settings_env


@dataclass
class Sample:
    """One look at the pipeline."""

    minute: float
    rss_mb: dict[str, float]
    lag: int
    fresh_p50_s: float | None
    fresh_p99_s: float | None
    fresh_n: int
    parts: int
    parts_in_partition: int


@dataclass
class Freshness:
    """Record timestamps by (partition, offset), read by tailing the topic in a thread; each
    sample takes those whose rows ClickHouse stored since the last one."""

    settings: Settings
    stamps: dict[tuple[int, int], int] = field(default_factory=dict)
    all_s: list[float] = field(default_factory=list)
    all_at: list[float] = field(default_factory=list)  # the minute of the sample of each
    began: float = field(default_factory=time.monotonic)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._tail, name="tail", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _tail(self) -> None:
        topic = self.settings.topic_interactions
        consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka.bootstrap)
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        try:
            while not self._stop.is_set():
                for tp, messages in consumer.poll(timeout_ms=500).items():
                    with self._lock:
                        for m in messages:
                            self.stamps[(tp.partition, m.offset)] = m.timestamp
        finally:
            consumer.close()

    def since(self, client: Any, since_ms: int) -> tuple[list[float], int]:
        """Seconds from record to row for the rows stored since ``since_ms``; the newest
        ingest time seen (the next sample's start)."""
        rows = client.query(
            "SELECT kafka_partition, kafka_offset, toUnixTimestamp64Milli(ingested_at) "
            "FROM interactions WHERE ingested_at > fromUnixTimestamp64Milli({t:Int64})",
            parameters={"t": since_ms},
        ).result_rows
        out, newest = [], since_ms
        with self._lock:
            for p, o, at in rows:
                stamp = self.stamps.pop((int(p), int(o)), None)
                if stamp is not None:
                    out.append((int(at) - stamp) / 1000)
                newest = max(newest, int(at))
        self.all_s.extend(out)
        self.all_at.extend([(time.monotonic() - self.began) / 60] * len(out))
        return out, newest


def rss_mb(pid: int | None) -> float:
    """VmRSS of ``pid`` (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def children(pid: int | None) -> list[int]:
    if pid is None:
        return []
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def processes(lab: Lab) -> dict[str, int | None]:
    """The soak's processes by name (the worker's supervisor and the worker it runs)."""
    supervisor = lab.workers[0].pid() if lab.workers else None
    worker = next(iter(children(supervisor)), None)
    return {
        "broker": lab.broker.process.pid(),
        "clickhouse": lab.clickhouse.process.pid(),
        "worker supervisor": supervisor,
        "worker": worker,
    }


def lag(client: Any, settings: Settings) -> int:
    held = verify.topic_records(settings.kafka.bootstrap, settings.topic_interactions)
    return max(0, held - verify.applied_records(client, settings.topic_interactions))


def parts(client: Any) -> tuple[int, int]:
    total, most = client.query(
        "SELECT sum(n), max(n) FROM (SELECT table, partition, count() AS n FROM system.parts "
        "WHERE active AND database = currentDatabase() GROUP BY table, partition)"
    ).result_rows[0]
    return int(total or 0), int(most or 0)


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def sampled(
    lab: Lab,
    settings: Settings,
    client: Any,
    fresh: Freshness,
    minutes: float,
    every: float,
    rate: int,
) -> Iterator[Sample]:
    """Live traffic for ``minutes``, a sample every ``every`` seconds."""
    tail = fresh.start()
    started = fresh.began = time.monotonic()
    since = int(time.time() * 1000)
    try:
        with Traffic(settings, rate) as traffic:
            while (elapsed := time.monotonic() - started) < minutes * 60:
                time.sleep(max(0.0, every - (time.monotonic() - started - elapsed)))
                if traffic.errors:
                    raise RuntimeError(f"traffic failed: {traffic.errors[0]}")
                seconds, since = fresh.since(client, since)
                total, most = parts(client)
                yield Sample(
                    (time.monotonic() - started) / 60,
                    {name: rss_mb(pid) for name, pid in processes(lab).items()},
                    lag(client, settings),
                    quantile(seconds, 0.5),
                    quantile(seconds, 0.99),
                    len(seconds),
                    total,
                    most,
                )
    finally:
        fresh.stop()
        tail.join(timeout=10)


def plot(samples: list[Sample], out: Path) -> list[Path]:
    """Four PNG charts of the run beside the report."""
    import altair as alt
    import pandas as pd
    import vl_convert

    rows: dict[str, list[dict[str, Any]]] = {"rss": [], "lag": [], "freshness": [], "parts": []}
    for s in samples:
        for name, mb in s.rss_mb.items():
            rows["rss"].append({"minute": s.minute, "series": name, "value": mb})
        rows["lag"].append({"minute": s.minute, "series": "records behind", "value": s.lag})
        for name, value in (("p50", s.fresh_p50_s), ("p99", s.fresh_p99_s)):
            if value is not None:
                rows["freshness"].append({"minute": s.minute, "series": name, "value": value})
        rows["parts"].append({"minute": s.minute, "series": "active parts", "value": s.parts})
        rows["parts"].append(
            {"minute": s.minute, "series": "most in one partition", "value": s.parts_in_partition}
        )
    titles = {
        "rss": "Resident memory (MB)",
        "lag": "Lag (records)",
        "freshness": "Freshness, record to ClickHouse (s)",
        "parts": "ClickHouse parts",
    }
    written = []
    for name, data in rows.items():
        chart = (
            alt.Chart(pd.DataFrame(data), title=titles[name], width=640, height=240)
            .mark_line()
            .encode(
                x=alt.X("minute:Q", title="minutes"),
                y=alt.Y("value:Q", title=None),
                color=alt.Color("series:N", title=None),
            )
        )
        path = out.parent / f"{out.stem}-{name}.png"
        path.write_bytes(vl_convert.vegalite_to_png(chart.to_json(), scale=1))
        written.append(path)
    return written


def report(
    samples: list[Sample],
    fresh_all: list[float],
    fresh_at: list[float],
    checks: dict[str, str],
    args: Any,
) -> list[str]:
    """The report's lines: memory against its ten-minute level, freshness, lag, parts."""
    settle = next((s for s in samples if s.minute >= args.settle), samples[0])
    after = [s for s in samples if s.minute >= settle.minute]
    lines = [
        f"Soak ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC): {args.minutes:g} minutes of calibrated "
        f"live traffic at {args.rate:,} events/s, one worker (both stages), a sample every "
        f"{args.every:g} s ({len(samples)} samples).",
        "",
        *rss_table(samples, args.settle),
    ]
    p50, p99 = quantile(fresh_all, 0.5), quantile(fresh_all, 0.99)
    settled = [v for v, at in zip(fresh_all, fresh_at, strict=True) if at >= settle.minute]
    s50, s99 = quantile(settled, 0.5), quantile(settled, 0.99)
    worst99 = max((s.fresh_p99_s or 0.0) for s in after)
    lines += [
        "",
        f"Freshness (record timestamp to ClickHouse insert) over the whole run, start-up "
        f"included: p50 {p50 or 0:.2f} s, p99 {p99 or 0:.2f} s ({len(fresh_all):,} events). "
        f"After {settle.minute:.0f} minutes: p50 {s50 or 0:.2f} s, p99 {s99 or 0:.2f} s "
        f"({len(settled):,} events); the worst sample's p99 after it {worst99:.2f} s.",
        f"Lag: median {statistics.median(s.lag for s in samples):,.0f} records, "
        f"largest {max(s.lag for s in samples):,}.",
        f"Parts: {samples[-1].parts:,} active at the end, at most {max(s.parts for s in samples):,}"
        f"; at most {max(s.parts_in_partition for s in samples):,} in one partition of a table.",
        "",
        *(f"{name}: {verdict}" for name, verdict in checks.items()),
    ]
    return lines


def rss_table(samples: list[Sample], settle: float) -> list[str]:
    """Each process's resident memory against its level at ``settle`` minutes: the median of
    the samples within a minute of it (one 10-second sample of ClickHouse lies anywhere in a
    band about 10% wide, merges and caches coming and going), then every later sample's
    departure from it and the drift of the last ten minutes' median."""
    near = [s for s in samples if abs(s.minute - settle) <= 1.0] or samples[:1]
    after = [s for s in samples if s.minute >= settle]
    last = [s for s in samples if s.minute >= samples[-1].minute - 10]
    lines = [
        f"| process | RSS level at {settle:g} min (median of {settle - 1:g}-{settle + 1:g}) | "
        "lowest after | highest after | largest departure | last 10 min (median) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in samples[0].rss_mb:
        level = statistics.median(s.rss_mb[name] for s in near)
        values = [s.rss_mb[name] for s in after]
        worst = max(abs(v - level) for v in values) / level if level else float("nan")
        drift = statistics.median(s.rss_mb[name] for s in last)
        lines.append(
            f"| {name} | {level:,.0f} MB | {min(values):,.0f} | {max(values):,.0f} | {worst:.1%} "
            f"| {drift:,.0f} ({(drift - level) / level if level else float('nan'):+.1%}) |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=1000, help="events a second")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--settle", type=float, default=10.0, help="minutes before the level")
    parser.add_argument("--report", type=Path, default=REPO / "build" / "soak.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        lab = Lab(Path(tmp))
        lab.start()
        try:
            settings = lab.settings("soak")
            client = connect(settings.clickhouse_url.get_secret_value())
            lab.worker(settings, "soak-worker")
            started = datetime.now(UTC)
            samples = []
            fresh = Freshness(settings)
            every = sampled(lab, settings, client, fresh, args.minutes, args.every, args.rate)
            for sample in every:
                samples.append(sample)
                p99 = sample.fresh_p99_s
                print(
                    f"{sample.minute:5.1f} min  lag {sample.lag:>7,}  "
                    f"p99 {p99 if p99 is not None else float('nan'):5.2f} s  "
                    f"parts {sample.parts:>5,}  "
                    + "  ".join(f"{n} {mb:,.0f} MB" for n, mb in sample.rss_mb.items()),
                    flush=True,
                )
            checks = drained_and_checked(lab, settings, client, started)
        finally:
            lab.stop()
    lines = report(samples, fresh.all_s, fresh.all_at, checks, args)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    pictures = plot(samples, args.report)
    lines += ["", *(f"![{p.stem}]({p.name})" for p in pictures)]
    args.report.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"report written to {args.report}")
    if any(verdict.startswith("NOT exact") for verdict in checks.values()):
        sys.exit(1)


def drained_and_checked(
    lab: Lab, settings: Settings, client: Any, started: datetime
) -> dict[str, str]:
    """Wait for the worker to apply everything, stop it, and check the topic and every rollup
    with the bounded-memory checks."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and (lag(client, settings) or _behind(settings, client)):
        time.sleep(1)
    for worker in lab.workers:
        worker.stop(timeout=30)
    env = settings_env(settings)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap)
    topic = settings.topic_interactions
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    ends = consumer.end_offsets(tps)
    consumer.close()
    ranges = [
        a for tp in tps if ends[tp] for a in ("--offsets", f"{tp.partition}:0-{ends[tp] - 1}")
    ]
    checks = {}
    offsets = run_journey("verify", *ranges, env=env, timeout=3600)
    records = sum(ends.values())
    checks[f"journey verify --offsets (every record, {records:,})"] = _verdict(
        offsets, "rollups against"
    )
    first = (started - timedelta(days=30)).date().isoformat()
    last = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    window = run_journey("verify", "--from", first, "--to", last, env=env, timeout=3600)
    checks[f"journey verify --from {first} --to {last} (every rollup)"] = _verdict(
        window, "rollups against the raw table"
    )
    return checks


def _behind(settings: Settings, client: Any) -> int:
    return verify.customers_behind(settings, client)


def _verdict(run: Any, phrase: str) -> str:
    """``exact`` and the lines saying so that contain ``phrase``, or the output's end."""
    if run.returncode == 0:
        said = [ln.strip() for ln in run.stdout.splitlines() if phrase in ln]
        return "; ".join(said)[:400] or "exact"
    return "NOT exact:\n" + run.stdout[-2000:] + run.stderr[-1000:]


if __name__ == "__main__":
    main()
