"""Peak memory and time of `journey verify`'s checks as the topic doubles (not a test).

One broker, one embedded ClickHouse and one worker (both stages). First a calibrated backfill
of ``--events`` interactions over 2021 is published and applied, and each check runs; then a
second backfill of as many over 2020 (another seed) doubles the topic, and each check runs
again:

- the whole ``journey verify`` (the topic and every rollup, in memory);
- ``journey verify --offsets`` over every partition, whole (a chunk of records at a time);
- ``journey verify --from 2021-03-01 --to 2021-04-01``: the window's records against the raw
  table, then the raw table against every rollup, a share of journeys at a time. The second
  backfill adds nothing to that month, so what changes between the two runs is the topic's
  size alone.

Each check runs as its own process under ``/usr/bin/time``: its peak resident memory (max RSS)
and wall time, and whether it found everything exact (exit 0). The ratios of the two runs are
printed and written to ``build/bench-verify.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from streams.clickhouse.client import connect
from streams.settings import Settings
from tests.bench.lab import bench_lab
from tests.integration.pipeline import publish_backfill, wait_applied, wait_customers
from tests.support import REPO, settings_env

WINDOW = ("2021-03-01", "2021-04-01")
BACKFILLS = (  # (seed, first day, day after the last)
    (3, datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)),
    (4, datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
)


@dataclass(frozen=True)
class Run:
    """One check's run: peak memory, wall time, exit status and its last lines."""

    peak_mb: float
    seconds: float
    exact: bool
    tail: str


def timed(args: list[str], env: dict[str, str]) -> Run:
    """``journey ARGS`` under /usr/bin/time: its peak RSS and wall time."""
    measured = subprocess.run(
        ["/usr/bin/time", "-f", "@@ %M %e", sys.executable, "-m", "streams", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    stats = next(ln for ln in reversed(measured.stderr.splitlines()) if ln.startswith("@@ "))
    _, kb, seconds = stats.split()
    tail = "\n".join(measured.stdout.splitlines()[-4:])
    return Run(int(kb) / 1024, float(seconds), measured.returncode == 0, tail)


def whole_partitions(settings: Settings) -> list[str]:
    """``--offsets`` arguments naming every partition of the topic, first offset to last."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap)
    try:
        topic = settings.topic_interactions
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        starts, ends = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        ranges = [f"{tp.partition}:{starts[tp]}-{ends[tp] - 1}" for tp in tps if ends[tp]]
        return [arg for r in ranges for arg in ("--offsets", r)]
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=160_000, help="interactions a backfill")
    parser.add_argument("--report", type=Path, default=Path("build/bench-verify.md"))
    args = parser.parse_args()

    runs: dict[str, list[Run]] = {"whole": [], "offsets": [], "window": []}
    sizes: list[int] = []
    with bench_lab("bench_verify") as lab:
        settings = lab.settings
        env = {**os.environ, **settings_env(settings)}
        lab.worker.start([sys.executable, "-m", "streams", "worker"], env=env)
        client = connect(lab.url)
        total = 0
        for seed, start, end in BACKFILLS:
            total += sum(
                publish_backfill(settings, args.events, seed=seed, start=start, end=end).values()
            )
            wait_applied(client, settings.topic_interactions, total, 1800, lab.worker.log_tail)
            wait_customers(settings, client, timeout=1800)
            sizes.append(total)
            print(f"{total:,} records applied; checking", flush=True)
            checks = {
                "whole": ["verify"],
                "offsets": ["verify", *whole_partitions(settings)],
                "window": ["verify", "--from", WINDOW[0], "--to", WINDOW[1]],
            }
            for name, argv in checks.items():
                run = timed(argv, env)
                runs[name].append(run)
                verdict = "exact" if run.exact else "NOT exact"
                print(
                    f"  {name}: {run.peak_mb:,.0f} MB, {run.seconds:.1f} s, {verdict}", flush=True
                )
                if not run.exact:
                    print(run.tail, flush=True)

    labels = {
        "whole": "`journey verify` (whole topic and every rollup)",
        "offsets": "`--offsets`, every partition whole",
        "window": f"`--from {WINDOW[0]} --to {WINDOW[1]}` (both steps)",
    }
    lines = [
        f"`journey verify` as the topic doubles ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC): peak "
        "resident memory (MB) and wall time (s) of each check, run as its own process.",
        "",
        f"| check | {sizes[0]:,} records | {sizes[1]:,} records | memory ratio | exact |",
        "|---|---:|---:|---:|---|",
    ]
    for name, (small, large) in runs.items():
        exact = "yes" if small.exact and large.exact else "NO"
        lines.append(
            f"| {labels[name]} | {small.peak_mb:,.0f} MB, {small.seconds:.0f} s | "
            f"{large.peak_mb:,.0f} MB, {large.seconds:.0f} s | "
            f"{large.peak_mb / small.peak_mb:.2f} | {exact} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text)
    print(f"report written to {args.report}")
    if not all(r.exact for rs in runs.values() for r in rs):
        sys.exit(1)


if __name__ == "__main__":
    main()
