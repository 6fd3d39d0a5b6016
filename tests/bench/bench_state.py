"""Journey state at scale: 1, 5 and 20 million live journeys through the real worker and its
store (not a test).

Run: `make bench-state` (or `python -m tests.bench.bench_state --journeys 1000000,5000000,
20000000`). Starts its own broker and embedded ClickHouse on free ports, publishes one event
per journey (journeys never seen before, inside the state TTL, so every one stays live), and
runs one `journey worker` through them. At each size it reports the worker's resident memory
(now and its peak), the journey store's bytes on disk and the changelog's bytes on the broker,
per journey. Then it stops the worker, starts it again on the same disk and measures the time
from the restart to the first insert of a new event: the store recovers only the changelog
written after it last persisted an offset, not all of it. Writes build/bench-state.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from deploy.local.processes import ManagedProcess
from streams.app import data_dir
from streams.clickhouse.client import connect
from streams.kafka.batch_sender import BatchSender
from streams.tools import verify
from tests.bench.lab import bench_lab
from tests.support import settings_env

CACHE = Path.home() / ".cache" / "journey-telemetry"
START_MS = int(datetime(2021, 3, 1, tzinfo=UTC).timestamp() * 1000)
SPREAD_MS = 20 * 86_400_000  # event times over 20 days: every journey stays inside the TTL
CUSTOMER = "ph:k1:" + "5e" * 16
TEMPLATE = (
    '{"kind":"touch","event_id":"e-%d","schema_version":1,"occurred_at":"%s",'
    '"tenant":"brand-%d","industry":"retail","use_case":"smart_notification","channel":"%s",'
    '"journey_id":"j-%012d","customer_id":"' + CUSTOMER + '","direction":"outbound"}'
)
CHANNELS = ("email", "web", "sms", "phone", "app_push")


def publish(sender: BatchSender, first: int, count: int) -> None:
    """One touch each for journeys ``first`` .. ``first + count - 1``, never seen before."""
    for n in range(first, first + count):
        at = START_MS + (n * 7919) % SPREAD_MS
        stamp = datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        value = TEMPLATE % (n, stamp, n % 12, CHANNELS[n % 5], n)
        sender.send(f"j-{n:012d}".encode(), value.encode())
    sender.flush()


def worker_pid(process: ManagedProcess) -> int:
    """The worker process itself (the child of `journey worker`, its supervisor)."""
    pid = process.pid() or 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else pid


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory now, and its peak, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values["VmRSS"], values["VmHWM"]


def store_memory_mb(port: int) -> float:
    """What the journey store (RocksDB) holds in memory, from the worker's /metrics: the
    block cache (memtables are charged to it) and the table readers."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    kinds = dict(re.findall(r'^journey_store_memory_bytes\{kind="(\w+)"\} (\S+)$', text, re.M))
    return (float(kinds.get("block_cache", 0)) + float(kinds.get("table_readers", 0))) / 1e6


def disk_bytes(root: Path, match: str = "") -> int:
    return sum(
        f.stat().st_size for f in root.rglob("*") if f.is_file() and match in str(f.parent.name)
    )


def wait_applied(client: object, topic: str, total: int, timeout: float) -> float:
    started = time.monotonic()
    while verify.applied_records(client, topic) < total:  # type: ignore[arg-type]
        if time.monotonic() - started > timeout:
            raise SystemExit(f"not all {total:,} records applied within {timeout:.0f}s")
        time.sleep(0.5)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--journeys", default="1000000,5000000,20000000")
    parser.add_argument("--report", type=Path, default=Path("build/bench-state.md"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.journeys.split(",")]

    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    with bench_lab("state") as lab:
        settings, broker, worker = lab.settings, lab.broker, lab.worker
        client = connect(lab.url)
        topic = settings.topic_interactions
        env = {**os.environ, **settings_env(settings)}
        sender = BatchSender(settings.kafka.bootstrap, topic)
        worker.start([sys.executable, "-m", "streams", "worker"], env=env)
        say(f"# Journey state benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
        say()
        say(
            f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()}; broker, ClickHouse and the worker share "
            "it. One touch event per journey, every journey live (inside the state TTL)."
        )
        say()
        say(
            "| live journeys | worker RSS MB | peak RSS MB | of it RocksDB MB "
            "| store on disk, bytes/journey | changelog, bytes/journey "
            "| records/s published and applied |"
        )
        say("|---:|---:|---:|---:|---:|---:|---:|")
        published = 0
        rss: dict[int, float] = {}
        for size in sizes:
            # Publishing and applying overlap: the rate is of both, from the first record
            # published to the last one in ClickHouse.
            started = time.monotonic()
            publish(sender, published, size - published)
            wait_applied(client, topic, size, timeout=7200)
            rate = (size - published) / (time.monotonic() - started)
            published = size
            time.sleep(3)  # the store's last writes and persisted offsets settle
            now, peak = memory_mb(worker_pid(worker))
            rocksdb = store_memory_mb(settings.worker_web_port)
            rss[size] = peak
            store = disk_bytes(data_dir(settings))
            changelog = disk_bytes(broker.data_dir, "journeys-changelog")
            say(
                f"| {size:,} | {now:,.0f} | {peak:,.0f} | {rocksdb:,.0f} | {store / size:,.1f} "
                f"| {changelog / size:,.1f} | {rate:,.0f} |"
            )

        worker.stop(timeout=60)
        restarted = time.monotonic()
        worker.start([sys.executable, "-m", "streams", "worker"], env=env)
        publish(sender, published, 1)
        wait_applied(client, topic, published + 1, timeout=1800)
        restart_s = time.monotonic() - restarted
        now, peak = memory_mb(worker_pid(worker))
        sender.close()
        say()
        growth = rss[sizes[-1]] / rss[sizes[0]] - 1
        say(
            f"Peak RSS from {sizes[0]:,} to {sizes[-1]:,} journeys: {rss[sizes[0]]:,.0f} to "
            f"{rss[sizes[-1]]:,.0f} MB ({growth:+.0%}; aim: under 600 MB, at most +20%)."
        )
        say(
            f"Restart at {sizes[-1]:,} live journeys: the first insert of a new event "
            f"{restart_s:.1f} s after the worker was started again (RSS then {now:,.0f} MB)."
        )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(lines) + "\n")
    print(f"report written to {args.report}")


if __name__ == "__main__":
    main()
