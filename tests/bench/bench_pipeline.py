"""Whole-pipeline throughput and freshness beside the raw consume ceiling (not a test).

Run: `make bench-pipeline` (or `python -m tests.bench.bench_pipeline --events 300000`).
Starts its own broker and embedded ClickHouse on free ports, publishes calibrated traffic with
disorder, and measures in one run, on the same topic:

1. the ceiling: a bare aiokafka consumer reading every record (and, separately, also decoding
   its JSON);
2. the pure flush logic alone (decode, validate, de-duplicate, join, build rows), in process;
3. one `journey worker` process draining the backlog into ClickHouse: sustained events/s
   (between 10% and 90% applied, so start-up is not counted), its peak memory, and where its
   time went (from its /metrics);
4. freshness: live traffic at a steady rate while the worker keeps up; event-to-ClickHouse
   latency p50/p99 = ClickHouse's ingested_at minus the Kafka record timestamp.
Then checks the rollups against the truth (a benchmark of a wrong pipeline is worthless).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from deploy.local.clickhouse_server import EmbeddedClickHouse
from deploy.local.kafka_broker import KafkaBroker
from deploy.local.processes import ManagedProcess
from streams import verify
from streams.batch_sender import BatchSender
from streams.clickhouse import connect
from streams.kafka_admin import ensure_topics, project_topics
from streams.logic.aggregate import Rules, plan_flush
from streams.logic.ingest import SourceRecord
from streams.migrations import migrate
from streams.publish import KafkaSender
from streams.settings import Settings
from streams.simulate.run import publish_records, record_bytes, simulator_for
from tests.integration.pipeline import DISORDER
from tests.support import free_port, settings_env

CACHE = Path.home() / ".cache" / "journey-telemetry"


def raw_consume(bootstrap: str, topic: str, total: int, decode: bool) -> float:
    """Records/s of a bare aiokafka consumer reading ``total`` records (optionally json.loads)."""
    import json

    from aiokafka import AIOKafkaConsumer

    async def run() -> float:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        try:
            seen = 0
            started = time.perf_counter()
            while seen < total:
                batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                for messages in batches.values():
                    seen += len(messages)
                    if decode:
                        for m in messages:
                            with contextlib.suppress(ValueError):  # the 1% malformed
                                json.loads(m.value)
            return total / (time.perf_counter() - started)
        finally:
            await consumer.stop()

    return asyncio.run(run())


def logic_rate(partitions: list[list[SourceRecord]]) -> float:
    """Records/s of plan_flush alone, in batches of 10,000 as the worker takes them."""
    records = sorted((r for p in partitions for r in p), key=lambda r: r.timestamp_ms)
    table: dict[str, object] = {}
    started = time.perf_counter()
    for i in range(0, len(records), 10_000):
        flush = plan_flush(records[i : i + 10_000], {}, table.get, Rules())  # type: ignore[arg-type]
        table.update(flush.journeys)
    return len(records) / (time.perf_counter() - started)


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the worker process (the child of `journey worker`)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    target = int(children[0]) if children else pid
    for line in Path(f"/proc/{target}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(f"journey_{name}"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--live-rate", type=float, default=2000.0, help="events/s for freshness")
    parser.add_argument("--live-seconds", type=float, default=20.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        clickhouse = EmbeddedClickHouse(state, port=free_port())
        broker = KafkaBroker(state, CACHE, port=free_port(), controller_port=free_port())
        clickhouse.start()
        broker.start()
        worker = ManagedProcess("worker", state / "run")
        try:
            settings = Settings(
                kafka_bootstrap=broker.bootstrap,
                clickhouse_url=f"{clickhouse.url}/bench",
                state_dir=state / "run",
                cache_dir=CACHE,
                worker_web_port=free_port(),
                _env_file=None,
            )
            url = settings.clickhouse_url.get_secret_value()
            migrate(url)
            ensure_topics(settings.kafka_bootstrap, project_topics(settings))
            topic = settings.topic_interactions

            sim = simulator_for(settings, 3, disorder=DISORDER)
            backlog = sim.backfill(
                args.events, datetime(2020, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)
            )
            sender = BatchSender(settings.kafka_bootstrap, topic)
            report = publish_records(backlog, sender)
            sender.close()
            total = sum(report.published.values())
            print(f"published {report.summary()}")

            ceiling = raw_consume(settings.kafka_bootstrap, topic, total, decode=False)
            ceiling_json = raw_consume(settings.kafka_bootstrap, topic, total, decode=True)
            partitions = verify.read_partitions(settings.kafka_bootstrap, topic)
            logic = logic_rate(partitions)
            floor = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tests.bench.faust_floor",
                    settings.kafka_bootstrap,
                    topic,
                    str(total),
                    str(free_port()),
                    str(state / "floor"),
                    "worker",
                    "--loglevel",
                    "warning",
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if floor.returncode != 0:
                raise SystemExit(f"the Faust floor run failed:\n{floor.stderr[-2000:]}")
            faust_floor = float(re.findall(r"FLOOR (\d+)", floor.stdout)[-1])

            client = connect(url)
            env = {**os.environ, **settings_env(settings)}
            worker.start([sys.executable, "-m", "streams", "worker"], env=env)
            marks: list[tuple[float, int]] = []
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                done = verify.applied_records(client, topic)
                marks.append((time.monotonic(), done))
                if done >= total:
                    break
                time.sleep(0.25)
            lo = next(t for t, n in marks if n >= total * 0.1)
            hi = next(t for t, n in marks if n >= total * 0.9)
            sustained = total * 0.8 / (hi - lo)
            pid = worker.pid() or 0
            metrics_url = f"http://127.0.0.1:{settings.worker_web_port}/metrics"
            scraped = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
            insert_s = metric(scraped, "flush_seconds_total")
            flushes = metric(scraped, "flushes_total")
            rows = metric(scraped, "fact_rows_total")
            drain_s = marks[-1][0] - marks[0][0]

            # Freshness: steady traffic the worker keeps up with, sent as it comes (kafka-python,
            # 5 ms linger), so the record timestamp is when it was published.
            now_ms = int(time.time() * 1000)
            steady = simulator_for(settings, 4).backfill(
                int(args.live_rate * args.live_seconds),
                datetime(2021, 6, 1, tzinfo=UTC),
                datetime(2021, 7, 1, tzinfo=UTC),
            )
            live_sender = KafkaSender(settings.kafka_bootstrap, topic, linger_ms=5)
            started = time.monotonic()
            for i, record in enumerate(steady):
                wait = started + i / args.live_rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                live_sender.send(record.key, record_bytes(record))
            live_sender.flush()
            live_sender.close()
            partitions = verify.read_partitions(settings.kafka_bootstrap, topic)
            total = sum(len(p) for p in partitions)
            while verify.applied_records(client, topic) < total:
                time.sleep(0.25)
            lags = []
            for event_id, ingested in client.query(
                "SELECT event_id, toUnixTimestamp64Milli(ingested_at) FROM interactions "
                "WHERE ingested_at >= fromUnixTimestamp64Milli({t:Int64})",
                parameters={"t": now_ms},
            ).result_rows:
                lags.append((event_id, int(ingested)))
            by_id = {}
            for part in partitions:
                for r in part:
                    if r.timestamp_ms >= now_ms:
                        by_id[r.value.split(b'"event_id":"', 1)[-1].split(b'"', 1)[0].decode()] = (
                            r.timestamp_ms
                        )
            fresh = sorted(ing - by_id[e] for e, ing in lags if e in by_id)
            exact = verify.compare(
                verify.compute_truth(partitions, Rules()).frozen(), verify.measured(client)
            )
            peak = peak_rss_mb(pid)
        finally:
            worker.stop(timeout=30)
            broker.stop()
            clickhouse.stop()

    p50 = statistics.median(fresh) if fresh else float("nan")
    p99 = fresh[int(len(fresh) * 0.99) - 1] if fresh else float("nan")
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"records: {total:,} ({args.events:,} interactions + receipts, duplicates, malformed)")
    print()
    print(f"{'measure':52} {'records/s':>11} {'vs ceiling':>10}")
    rows_ = [
        ("ceiling: bare aiokafka consumer", ceiling),
        ("ceiling + json.loads of every record", ceiling_json),
        ("flush logic alone (decode, validate, state, rows)", logic),
        ("a Faust agent that only counts (same app options)", faust_floor),
        ("journey worker: Kafka -> ClickHouse rollups", sustained),
    ]
    for name, rate in rows_:
        print(f"{name:52} {rate:>11,.0f} {rate / ceiling:>10.2f}")
    print()
    print(f"worker drained the backlog in {drain_s:.1f}s; peak RSS {peak:.0f} MB")
    print(
        f"where the worker's time went: {insert_s:.1f}s in {flushes:.0f} ClickHouse inserts "
        f"({rows / max(flushes, 1):,.0f} rows each), the pure logic would need "
        f"{total / logic:.1f}s; the rest is Faust/aiokafka consuming, changelog writes and "
        f"waiting"
    )
    print(
        f"freshness at {args.live_rate:,.0f} events/s live: p50 {p50 / 1000:.2f}s, "
        f"p99 {p99 / 1000:.2f}s over {len(fresh):,} events"
    )
    print("rollups vs truth: " + ", ".join(f"{v.table} {v.verdict}" for v in exact))


if __name__ == "__main__":
    main()
