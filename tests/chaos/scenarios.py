"""The fault-injection matrix: each scenario runs real `journey worker` processes against a real
broker and the embedded ClickHouse server, injects its fault, then compares every rollup with
the truth recomputed from the source topic (``streams.tools.verify``) and reports exact, lost,
duplicated or wrong.

``make chaos`` runs the full sizes (``FULL``); the test command runs the short ones
(``SHORT``, tests/chaos/test_chaos.py). Infrastructure that fails to start is reported as
such, never as a pass. Every process started here is stopped at the end.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from clickhouse_connect.driver.client import Client

from deploy.local.kafka_broker import KafkaBroker
from deploy.local.processes import LaunchError, ManagedProcess
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.kafka.admin import ensure_topics, project_topics
from streams.kafka.batch_sender import BatchSender
from streams.logic.aggregate import Rules
from streams.logic.customers import windows_of
from streams.settings import Settings
from streams.simulate.generator import Disorder, SimRecord
from streams.simulate.run import record_bytes, simulator_for
from streams.tools import verify
from tests.support import (
    account_url,
    accounted_server,
    clickhouse_scratch,
    free_port,
    settings_env,
    unique,
)

CACHE = Path.home() / ".cache" / "journey-telemetry"
LAB_DATABASES = 64  # more than the scenarios of a run need
CLEAN = Disorder()
MESSY = Disorder(
    late_fraction=0.05,
    duplicate_fraction=0.03,
    receipt_first_fraction=0.10,
    overtaken_fraction=0.05,  # corrections in the stream: read pairs moved to earlier signals
)


@dataclass(frozen=True)
class Size:
    """How hard each scenario pushes."""

    rate: int  # events/s of the traffic published while faults happen
    kills: int  # SIGKILLs at insert fault points (a third before, during, after an insert)
    random_kills: int  # SIGKILLs at random moments
    broker_down_s: float
    clickhouse_down_s: float
    pause_s: float  # SIGSTOP of a worker holding a batch (session timeout: 10 s)
    poison: int  # fuzzed records
    events: int  # events of the scenarios that publish a backlog
    merges_stopped_s: float  # longest that merges stay stopped (until inserts are refused)
    disk_full_s: float  # ClickHouse refusing inserts for want of disk space
    lost_answer_s: float  # a worker cut off from ClickHouse after an insert's answer was lost


FULL = Size(
    rate=400,
    kills=24,
    random_kills=4,
    broker_down_s=20,
    clickhouse_down_s=60,
    pause_s=25,
    poison=10_000,
    events=40_000,
    merges_stopped_s=180,
    disk_full_s=60,
    lost_answer_s=60,
)
SHORT = Size(
    rate=300,
    kills=3,
    random_kills=3,  # the test command's only proof of SIGKILLs at random moments
    broker_down_s=8,
    clickhouse_down_s=12,
    pause_s=20,
    poison=1_000,
    events=6_000,
    merges_stopped_s=90,
    disk_full_s=15,
    lost_answer_s=20,
)


@dataclass
class Outcome:
    """What one scenario found."""

    scenario: str
    faults: str
    records: int = 0
    verdict: str = "not run"  # exact | duplicated | lost | wrong | infrastructure failed | error
    detail: str = ""
    seconds: float = 0.0
    expect_exact: bool = True  # False for the negative control: the comparison must fail

    @property
    def passed(self) -> bool:
        if self.verdict in ("infrastructure failed", "error", "not run"):
            return False
        return (self.verdict == "exact") == self.expect_exact


class Lab:
    """A broker and a ClickHouse server of the suite's own (scenarios stop and restart them)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.broker = KafkaBroker(root, CACHE, port=free_port(), controller_port=free_port())
        # The journey accounts, as on the demo: workers insert as journey_worker. A database
        # per scenario run, granted up front (the server reads its users.xml once).
        names = [unique("chaos_") for _ in range(LAB_DATABASES)]
        self.databases = iter(names)
        root.mkdir(parents=True, exist_ok=True)
        self._scratch = contextlib.ExitStack()  # ClickHouse's data, removed by stop()
        self.clickhouse = accounted_server(
            root, names, self._scratch.enter_context(clickhouse_scratch())
        )
        self.workers: list[ManagedProcess] = []

    def start(self) -> None:
        self.clickhouse.start()
        self.broker.start()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop(timeout=20)
        self.broker.stop()
        self.clickhouse.stop()
        self._scratch.close()

    def settings(self, name: str) -> Settings:
        """Fresh topics, consumer group and database for one scenario."""
        url = account_url(f"{self.clickhouse.url}/{next(self.databases)}", "admin")
        settings = Settings(
            kafka={"bootstrap": self.broker.bootstrap},
            clickhouse_url=url,  # type: ignore[arg-type]
            state_dir=self.root / "state" / name,
            cache_dir=CACHE,
            topic_prefix=unique(name),
            app_id=unique(f"chaos-{name}-"),
            worker_web_port=free_port(),
        )
        migrate(settings.clickhouse_url.get_secret_value())
        ensure_topics(settings.kafka.bootstrap, project_topics(settings))
        return settings

    def worker(
        self,
        settings: Settings,
        name: str,
        fault: str = "",
        port: int | None = None,
        clickhouse_port: int | None = None,
    ) -> ManagedProcess:
        """Start `journey worker` (the supervisor and its worker process) under ``name``. The
        journey store is per web port: a worker started on ``port`` again finds the store a
        killed one left on this disk (a process restarted in its pod); a new port is a worker
        on a fresh disk, which recovers the whole changelog. ``clickhouse_port``: reach
        ClickHouse there (a proxy in front of it) instead."""
        process = ManagedProcess(name, settings.state_dir)
        env = {**settings_env(settings), "JOURNEY_WORKER_WEB_PORT": str(port or free_port())}
        url = settings.clickhouse_url.get_secret_value()
        if clickhouse_port is not None:
            url = url.replace(f":{self.clickhouse.port}/", f":{clickhouse_port}/", 1)
        env["CLICKHOUSE_URL"] = account_url(url, "worker")
        env["JOURNEY_FAULT"] = fault
        # A fault point is the chaos suite's own worker entry (tests/chaos/worker.py), never
        # the product's; without one, the product's `journey worker` runs.
        module = "tests.chaos.worker" if fault else "streams"
        process.start([sys.executable, "-m", module, "worker"], env=env)
        self.workers.append(process)
        return process


class Traffic:
    """Calibrated interactions published at a steady rate from a thread, pausable."""

    def __init__(self, settings: Settings, rate: int, disorder: Disorder = MESSY) -> None:
        self.settings = settings
        self.rate = rate
        self.disorder = disorder
        self.sent = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def pause(self) -> None:
        self._running.clear()
        time.sleep(0.5)  # let the chunk in flight finish

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        simulator = simulator_for(
            self.settings, seed=random.randrange(1 << 30), disorder=self.disorder
        )
        # The live generator is lazy (a backfill is built whole, then sorted): event times
        # from now on, journeys interleaved, receipts after their sends.
        records = simulator.live(int(time.time() * 1000), float(self.rate))
        sender = BatchSender(self.settings.kafka.bootstrap, self.settings.topic_interactions)
        chunk = max(1, self.rate // 10)
        try:
            while not self._stop.is_set():
                self._running.wait()
                if self._stop.is_set():
                    break
                started = time.monotonic()
                for _ in range(chunk):
                    record = next(records)
                    sender.send(record.key, record_bytes(record))
                sender.flush()
                self.sent += chunk
                time.sleep(max(0.0, 0.1 - (time.monotonic() - started)))
        except Exception as exc:  # reported by the scenario, never swallowed
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(Exception):
                sender.close()


def publish(settings: Settings, records: list[SimRecord] | list[tuple[bytes, bytes]]) -> None:
    """Publish records (simulated ones, or ``(key, value)`` pairs) and wait for the acks."""
    sender = BatchSender(settings.kafka.bootstrap, settings.topic_interactions)
    try:
        for record in records:
            if isinstance(record, SimRecord):
                sender.send(record.key, record_bytes(record))
            else:
                sender.send(*record)
    finally:
        sender.close()


def judge(
    lab: Lab, outcome: Outcome, settings: Settings, client: Client, timeout: float = 300
) -> None:
    """Wait until every record of the topic is applied, stop the workers (nothing may land
    after the comparison started), then compare with the truth."""
    partitions = verify.read_partitions(settings.kafka.bootstrap, settings.topic_interactions)
    total = sum(len(p) for p in partitions)
    outcome.records = total
    deadline = time.monotonic() + timeout
    applied = 0
    while time.monotonic() < deadline:
        applied = verify.applied_records(client, settings.topic_interactions)
        if applied >= total:
            break
        time.sleep(0.5)
    # Then the customers stage, over what the ingest stage handed on (all of it is on the
    # customers topic once the ingest stage has applied everything).
    behind = verify.customers_behind(settings, client)
    while behind and time.monotonic() < deadline:
        time.sleep(0.5)
        behind = verify.customers_behind(settings, client)
    if applied < total or behind:
        # A worker that stopped making progress: where each process stood, in the run's
        # output (the lab and its processes are gone when a flake is looked at).
        for worker in lab.workers:
            print(f"{outcome.scenario}: {worker.name} stalled", stacks(worker), sep="\n")
    for worker in lab.workers:
        worker.stop(timeout=30)
    rules = Rules(grace_ms=round(settings.late_grace_s * 1000))
    truth = verify.compute_truth(partitions, rules, windows_of(settings))
    verdicts = verify.check(client, truth)
    wrong = [v for v in verdicts if not v.exact]
    if not wrong:
        outcome.verdict = "exact"
        return
    # The first differences of each wrong table, in the run's output: what a flake leaves to
    # diagnose it by when its lab is gone.
    print(f"{outcome.scenario}: not exact", *verify.summarise(wrong), sep="\n  ", flush=True)
    raw = next(v for v in verdicts if v.table == "interactions")
    extra = sum(max(0, a - e) for a, e in zip(raw.actual, raw.expected, strict=True))
    missing = sum(max(0, e - a) for a, e in zip(raw.actual, raw.expected, strict=True))
    kinds = {v.verdict for v in wrong}
    outcome.verdict = kinds.pop() if len(kinds) == 1 else "wrong"
    outcome.detail = (
        f"{missing} events lost, {extra} counted twice in the raw table; applied {applied} of "
        f"{total} records ({behind} of the customers topic not yet); differing: "
        + ", ".join(f"{v.table} ({v.verdict})" for v in wrong)
    )


def wait_insert_count(client: Client, settings: Settings, at_least: int, timeout: float) -> None:
    """Wait until ClickHouse holds progress from at least ``at_least`` flushes."""
    _wait_for_health(client, settings, "flushes", at_least, timeout, "no worker flush")


# What the scenarios wait for, counted over the interactions topic's rows of pipeline_health.
HEALTH_COUNTS = {
    "flushes": "SELECT count() FROM pipeline_health WHERE kafka_topic = {t:String}",
    "workers": "SELECT uniqExact(worker) FROM pipeline_health WHERE kafka_topic = {t:String}",
}


def _wait_for_health(
    client: Client, settings: Settings, count: str, at_least: int, timeout: float, what: str
) -> None:
    """Wait until ``HEALTH_COUNTS[count]`` reaches ``at_least``; TimeoutError saying ``what``
    else."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = int(
            client.command(HEALTH_COUNTS[count], parameters={"t": settings.topic_interactions})
        )
        if found >= at_least:
            return
        time.sleep(0.3)
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def taken_over(client: Client, timeout: float, new_owner: ManagedProcess) -> None:
    """Wait until every partition leased so far (both stages' topics) has been leased again:
    the worker that took its first leases is stopped, so another worker has them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        epochs = client.query(
            "SELECT kafka_topic, kafka_partition, max(epoch) FROM partition_leases "
            "GROUP BY kafka_topic, kafka_partition"
        ).result_rows
        if epochs and all(int(e) >= 2 for *_, e in epochs):
            return
        time.sleep(0.5)
    raise RuntimeError(
        f"no worker took the stopped worker's partitions over in {timeout:.0f} s; "
        f"{new_owner.log_tail()}"
    )


def stacks(process: ManagedProcess) -> str:
    """The Python stacks of the worker process under ``process`` (py-spy dump), or why not."""
    import subprocess

    pid = process.pid()
    if pid is None:
        return "  (not running)"
    out = []
    for child in [*_children(pid), pid]:
        dump = subprocess.run(
            [str(Path(sys.executable).with_name("py-spy")), "dump", "--pid", str(child)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        out.append(dump.stdout or dump.stderr)
    return "\n".join(out)


def stopped(process: ManagedProcess) -> bool:
    """Whether the worker process under ``process`` (the supervisor's child) is stopped."""
    pid = process.pid()
    if pid is None:
        return False
    for child in [*_children(pid), pid]:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
                return True
    return False


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry.name))
    return out


def wait_exit(process: ManagedProcess, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_running():
            return True
        time.sleep(0.2)
    return False


# ---- the scenarios -------------------------------------------------------------------------
def sigkill_loop(lab: Lab, size: Size) -> Outcome:
    """SIGKILL of the worker in a loop, right before, during and right after an insert, and at
    random moments, while traffic keeps coming."""
    modes = ["before", "during", "after"]
    outcome = Outcome(
        "sigkill_loop",
        f"{size.kills} SIGKILLs at inserts (before, during, after, in turn), "
        f"{size.random_kills} at random moments",
    )
    settings = lab.settings("kill")
    client = connect(settings.clickhouse_url.get_secret_value())
    done: dict[str, int] = {"before": 0, "during": 0, "after": 0, "random": 0}
    # Every restart is on the disk the killed worker left (its store and the changelog offset
    # it holds: the process restarted in its pod), so a restart reads the changelog's tail.
    # A worker on a fresh disk recovers the whole changelog, record by record through Faust
    # (under 2,000 records/s here under this traffic): after a dozen kills that outgrew the
    # 120 s a fault is given to fire. Fresh disks are exercised by the workers that join in
    # rebalance and zombie_sigstop.
    same_disk = free_port()
    with Traffic(settings, size.rate) as traffic:
        for i in range(size.kills):
            mode = modes[i % 3]
            fault = f"{mode}:{1 + i % 2}"
            worker = lab.worker(settings, f"worker-{i}", fault=fault, port=same_disk)
            if not wait_exit(worker, 120):
                raise RuntimeError(f"fault {mode} did not fire within 120 s; {worker.log_tail()}")
            worker.stop(timeout=5)  # the supervisor, if it outlived its child
            done[mode] += 1
        for i in range(size.random_kills):
            worker = lab.worker(settings, f"worker-random-{i}", port=same_disk)
            wait_insert_count(client, settings, 1, 120)
            time.sleep(random.uniform(0.2, 2.5))
            worker.stop(sig=signal.SIGKILL, timeout=5)
            done["random"] += 1
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    lab.worker(settings, "worker-final")
    judge(lab, outcome, settings, client)
    outcome.faults = ", ".join(f"{n} {k}" for k, n in done.items()) + " (SIGKILLs)"
    return outcome


def stages_apart(lab: Lab, size: Size) -> Outcome:
    """The two stages in processes of their own (JOURNEY_WORKER_STAGES, a consumer group
    each): the ingest stage is SIGKILLed in a loop while the customers stage keeps reading
    what it handed on; every rollup of both stages must end exact."""
    kills = max(2, size.kills // 3)
    outcome = Outcome(
        "stages_apart", f"the ingest stage SIGKILLed {kills} times while the customers stage runs"
    )
    settings = lab.settings("apart")
    ingest = settings.model_copy(update={"worker_stages": "ingest"})
    customers = settings.model_copy(
        update={"worker_stages": "customers", "app_id": f"{settings.app_id}-customers"}
    )
    client = connect(settings.clickhouse_url.get_secret_value())
    same_disk = free_port()
    with Traffic(settings, size.rate) as traffic:
        lab.worker(customers, "customers-stage")
        for i in range(kills):
            worker = lab.worker(ingest, f"ingest-{i}", port=same_disk)
            wait_insert_count(client, settings, 1 + i, 120)
            time.sleep(random.uniform(0.5, 3.0))
            worker.stop(sig=signal.SIGKILL, timeout=5)
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    lab.worker(ingest, "ingest-final", port=same_disk)
    judge(lab, outcome, settings, client)
    outcome.faults = f"{kills} SIGKILLs of the ingest stage; the customers stage never stopped"
    return outcome


def zombie(lab: Lab, size: Size) -> Outcome:
    """A worker stops itself holding a batch (SIGSTOP right before its insert) for longer than
    the session timeout; a second worker takes its partitions over; then it is woken: its
    insert must be fenced."""
    return _woken_zombie(
        lab, size, "zombie_sigstop", "mid-batch", "stop:3", "fenced:",
        ("the woken worker's batch was fenced (its log says so)",
         "the woken worker's batch was NOT fenced"),
    )  # fmt: skip


def zombie_mid_refresh(lab: Lab, size: Size) -> Outcome:
    """A worker stops itself between reading what ClickHouse holds and catching its customer
    store up with the changelog, past the session timeout; a second worker takes its
    partitions over; woken, the first reads the second's states on the changelog: it must
    find itself fenced rather than decide a flush on its old progress and those states."""
    return _woken_zombie(
        lab, size, "zombie_mid_refresh", "mid-refresh", "stopcatchup:1",
        "were leased to another worker since this one leased them",
        ("the woken worker found itself fenced before deciding",
         "the woken worker did NOT find itself fenced before deciding"),
    )  # fmt: skip


def _woken_zombie(
    lab: Lab,
    size: Size,
    name: str,
    where: str,
    fault: str,
    evidence: str,
    said: tuple[str, str],
) -> Outcome:
    """Worker A stops itself (``fault``) for longer than the session timeout, worker B takes
    its partitions over, A is woken; exact only if A's log shows ``evidence`` (the scenario
    exercised what it is about), which the detail says (``said``: shown, not shown)."""
    outcome = Outcome(name, f"SIGSTOP for {size.pause_s:.0f} s (session timeout 10 s) {where}")
    settings = lab.settings(name.replace("_", "-"))
    client = connect(settings.clickhouse_url.get_secret_value())
    with Traffic(settings, size.rate) as traffic:
        a = lab.worker(settings, "worker-a", fault=fault)
        deadline = time.monotonic() + 120
        while not stopped(a):
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker A never stopped itself; {a.log_tail()}")
            time.sleep(0.2)
        b = lab.worker(settings, "worker-b")
        # B must own every partition before A wakes (on a loaded machine B's start alone has
        # taken longer than the pause: A woke still the owner, and nothing was exercised).
        taken_over(client, 120, b)
        time.sleep(size.pause_s)
        pid = a.pid()
        assert pid is not None
        os.killpg(pid, signal.SIGCONT)
        time.sleep(10)  # the zombie wakes, finds itself fenced, rejoins
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    judge(lab, outcome, settings, client)
    leases = client.query(
        "SELECT kafka_partition, max(epoch) FROM partition_leases GROUP BY kafka_partition"
    ).result_rows
    seen = evidence in a.log_path.read_text(errors="replace")
    if not seen and outcome.verdict == "exact":
        outcome.verdict = "error"  # the scenario did not exercise its fault: not a pass
    outcome.detail = (outcome.detail + "; " if outcome.detail else "") + (
        f"{said[0] if seen else said[1]}; leases taken up to epoch {max(e for _, e in leases)}"
    )
    return outcome


def broker_restart(lab: Lab, size: Size) -> Outcome:
    """The broker stopped mid-stream and started again."""
    outcome = Outcome("broker_restart", f"broker down {size.broker_down_s:.0f} s mid-stream")
    settings = lab.settings("broker")
    client = connect(settings.clickhouse_url.get_secret_value())
    lab.worker(settings, "worker")
    with Traffic(settings, size.rate) as traffic:
        wait_insert_count(client, settings, 2, 120)
        traffic.pause()
        lab.broker.stop()
        time.sleep(size.broker_down_s)
        lab.broker.start()
        traffic.resume()
        time.sleep(8)
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    judge(lab, outcome, settings, client)
    return outcome


def clickhouse_outage(lab: Lab, size: Size) -> Outcome:
    """ClickHouse stopped mid-stream while traffic keeps coming, then started again."""
    outcome = Outcome(
        "clickhouse_outage", f"ClickHouse down {size.clickhouse_down_s:.0f} s mid-stream"
    )
    settings = lab.settings("chdown")
    client = connect(settings.clickhouse_url.get_secret_value())
    lab.worker(settings, "worker")
    with Traffic(settings, size.rate) as traffic:
        wait_insert_count(client, settings, 2, 120)
        lab.clickhouse.stop()
        time.sleep(size.clickhouse_down_s)
        lab.clickhouse.start()
        time.sleep(5)
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    client = connect(settings.clickhouse_url.get_secret_value())
    judge(lab, outcome, settings, client)
    return outcome


# The scenario's tables refuse inserts after this many active parts in one partition (and
# delay them after half as many): ClickHouse's defaults (3,000 and 1,000) take hours of
# stopped merges to reach at the suite's rates; the mechanism is the same.
PARTS_TO_THROW = 40
NO_DISK_SPACE = 10**18  # min_free_disk_bytes_to_perform_insert above any disk's free space


def _merge_tree_tables(client: Client) -> list[str]:
    return [
        str(name)
        for (name,) in client.query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND engine LIKE '%MergeTree'"
        ).result_rows
    ]


def _set_on_tables(client: Client, setting: str, value: int) -> None:
    """``setting`` = ``value`` on every MergeTree table of the scenario's database."""
    for table in _merge_tree_tables(client):
        # Identifiers from the server's catalogue and this module; the value is bound.
        client.command(
            f"ALTER TABLE {table} MODIFY SETTING {setting} = {{v:UInt64}}",
            parameters={"v": value},
        )


def _server_errors(client: Client, name: str) -> int:
    """How often the server has raised error ``name`` since it started."""
    return int(
        client.command(
            "SELECT sum(value) FROM system.errors WHERE name = {n:String}", parameters={"n": name}
        )
        or 0
    )


def _most_parts(client: Client) -> int:
    return int(
        client.command(
            "SELECT max(n) FROM (SELECT count() AS n FROM system.parts WHERE active "
            "AND database = currentDatabase() GROUP BY table, partition)"
        )
        or 0
    )


def merges_stopped(lab: Lab, size: Size) -> Outcome:
    """ClickHouse's merges stopped mid-stream until it refuses inserts (TOO_MANY_PARTS); the
    worker retrying a refused batch is SIGKILLed and another started on its disk (an insert
    some tables took and one refused, then a crash: what ClickHouse holds must not say the
    batch landed); merges started again. Nothing may be lost or doubled."""
    outcome = Outcome(
        "merges_stopped",
        f"merges stopped until inserts are refused ({PARTS_TO_THROW} parts; at most "
        f"{size.merges_stopped_s:.0f} s), the worker SIGKILLed while refused, then started",
    )
    settings = lab.settings("merges")
    client = connect(settings.clickhouse_url.get_secret_value())
    _set_on_tables(client, "parts_to_throw_insert", PARTS_TO_THROW)
    _set_on_tables(client, "parts_to_delay_insert", PARTS_TO_THROW // 2)
    disk = free_port()
    worker = lab.worker(settings, "worker", port=disk)
    refused_before = _server_errors(client, "TOO_MANY_PARTS")
    most = 0
    with Traffic(settings, size.rate) as traffic:
        wait_insert_count(client, settings, 2, 120)
        # Server-wide: the lab runs one scenario at a time.
        client.command("SYSTEM STOP MERGES")
        try:
            stopped = time.monotonic()
            deadline = stopped + size.merges_stopped_s
            refused_at = None
            while time.monotonic() < deadline:
                most = max(most, _most_parts(client))
                if refused_at is None and _server_errors(client, "TOO_MANY_PARTS") > refused_before:
                    refused_at = time.monotonic()
                    time.sleep(2)  # a retry or two against the refusal
                    worker.stop(sig=signal.SIGKILL, timeout=5)
                    worker = lab.worker(settings, "worker-restarted", port=disk)
                if refused_at is not None and time.monotonic() - refused_at >= 15:
                    break  # the restarted worker has met the refusal too
                time.sleep(1)
        finally:
            client.command("SYSTEM START MERGES")
        time.sleep(5)
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    refused = _server_errors(client, "TOO_MANY_PARTS") - refused_before
    judge(lab, outcome, settings, client)
    outcome.detail = (
        f"at most {most} active parts in one partition; {refused} inserts refused "
        f"(TOO_MANY_PARTS) in {time.monotonic() - stopped:.0f} s"
    )
    if not refused:
        outcome.verdict = "error"
        outcome.detail += ": ClickHouse never refused an insert, so nothing was tested"
    return outcome


def disk_full(lab: Lab, size: Size) -> Outcome:
    """ClickHouse out of disk space for a while (every table of the scenario's database asks
    for more free space than the disk has: NOT_ENOUGH_SPACE on every insert), then space is
    freed: the worker waits, retries, and nothing is lost or doubled."""
    outcome = Outcome("disk_full", f"ClickHouse out of disk space {size.disk_full_s:.0f} s")
    settings = lab.settings("diskfull")
    client = connect(settings.clickhouse_url.get_secret_value())
    lab.worker(settings, "worker")
    refused_before = _server_errors(client, "NOT_ENOUGH_SPACE")
    with Traffic(settings, size.rate) as traffic:
        wait_insert_count(client, settings, 2, 120)
        _set_on_tables(client, "min_free_disk_bytes_to_perform_insert", NO_DISK_SPACE)
        try:
            time.sleep(size.disk_full_s)
        finally:
            _set_on_tables(client, "min_free_disk_bytes_to_perform_insert", 0)
        time.sleep(5)
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    refused = _server_errors(client, "NOT_ENOUGH_SPACE") - refused_before
    judge(lab, outcome, settings, client)
    outcome.detail = f"{refused} inserts refused (NOT_ENOUGH_SPACE)"
    if not refused:
        outcome.verdict = "error"
        outcome.detail += ": ClickHouse never refused an insert, so nothing was tested"
    return outcome


# The scenario's tables remember the tokens of their last few inserts only (10,000 in the
# product): the other worker's inserts while one is cut off push its insert out of them.
DEDUP_WINDOW = 4


def lost_answer(lab: Lab, size: Size) -> Outcome:
    """The answer to a worker's insert lost (the insert ran to the end; the connection was cut
    before the worker heard), then that worker cut off from ClickHouse while another goes on
    inserting into the same tables: more inserts than the tables' de-duplication window come
    before the first worker can try again. Its insert must not count twice."""
    from tests.chaos.lost_answer import LostAnswerProxy

    outcome = Outcome(
        "lost_answer",
        f"an insert's answer lost, the worker cut off {size.lost_answer_s:.0f} s while another "
        f"inserts (de-duplication window {DEDUP_WINDOW})",
    )
    settings = lab.settings("lostanswer")
    client = connect(settings.clickhouse_url.get_secret_value())
    _set_on_tables(client, "non_replicated_deduplication_window", DEDUP_WINDOW)
    with LostAnswerProxy(lab.clickhouse.port) as proxy:
        cut = lab.worker(settings, "worker-cut", clickhouse_port=proxy.port)
        lab.worker(settings, "worker-direct")
        with Traffic(settings, size.rate) as traffic:
            # Each worker owns partitions of its own once both have flushed.
            _wait_for_health(client, settings, "workers", 2, 180, "no two workers")
            proxy.arm(size.lost_answer_s)
            if not proxy.stolen.wait(120):
                raise RuntimeError("the cut worker sent no insert through its proxy in 120 s")
            lost_at = datetime.now(UTC)
            time.sleep(size.lost_answer_s + 10)
            if traffic.errors:
                raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    others = int(
        client.command(
            "SELECT uniqExact(worker, kafka_topic, flushed_at) FROM pipeline_health "
            "WHERE flushed_at > {t:DateTime64(3)} "
            "AND flushed_at < {t:DateTime64(3)} + toIntervalSecond({s:UInt32})",
            parameters={"t": lost_at, "s": int(size.lost_answer_s)},
        )
    )
    log = cut.log_path.read_text(errors="replace") if cut.log_path.exists() else ""
    held = "had no answer, and ClickHouse holds it" in log
    judge(lab, outcome, settings, client)
    outcome.detail = (
        f"{others} inserts by the other worker's stages while the first was cut off (window "
        f"{DEDUP_WINDOW}); the cut worker "
        + ("found its insert held and did not send it again" if held else "sent it again")
    )
    if others <= DEDUP_WINDOW:
        outcome.verdict = "error"
        outcome.detail += ": no more inserts than the window, so nothing was tested"
    return outcome


def rebalance(lab: Lab, size: Size) -> Outcome:
    """A second and a third worker join and leave while traffic keeps coming."""
    outcome = Outcome("rebalance", "workers 2 and 3 join, then leave (SIGTERM), mid-stream")
    settings = lab.settings("rebalance")
    client = connect(settings.clickhouse_url.get_secret_value())
    lab.worker(settings, "worker-1")
    with Traffic(settings, size.rate) as traffic:
        wait_insert_count(client, settings, 2, 120)
        second = lab.worker(settings, "worker-2")
        time.sleep(6)
        third = lab.worker(settings, "worker-3")
        time.sleep(6)
        second.stop(timeout=30)
        time.sleep(6)
        third.stop(timeout=30)
        time.sleep(4)
        if traffic.errors:
            raise RuntimeError(f"publishing failed: {traffic.errors[0]}")
    judge(lab, outcome, settings, client)
    return outcome


def poison(lab: Lab, size: Size) -> Outcome:
    """Fuzzed records (hypothesis) amid valid traffic: every one a dead letter, nothing else
    disturbed, and the worker as fast afterwards as before."""
    from tests.chaos.fuzz import poison_records

    outcome = Outcome("poison", f"{size.poison:,} fuzzed records (hypothesis)")
    settings = lab.settings("poison")
    client = connect(settings.clickhouse_url.get_secret_value())
    simulator = simulator_for(settings, seed=11, disorder=CLEAN)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    valid = list(simulator.backfill(2 * size.events, start, start + timedelta(days=30)))
    half = len(valid) // 2
    lab.worker(settings, "worker")
    timings = []
    for phase in (valid[:half], poison_records(size.poison, seed_value=5), valid[half:]):
        before = verify.applied_records(client, settings.topic_interactions)
        started = time.monotonic()
        publish(settings, phase)
        target = before + len(phase)
        while verify.applied_records(client, settings.topic_interactions) < target:
            if time.monotonic() - started > 300:
                raise RuntimeError(f"phase of {len(phase)} records not applied within 300 s")
            time.sleep(0.2)
        timings.append(len(phase) / (time.monotonic() - started))
    judge(lab, outcome, settings, client)
    dead = int(client.command("SELECT count() FROM dead_letters"))
    if dead != size.poison and outcome.verdict == "exact":
        outcome.verdict = "wrong"
    outcome.detail = (
        f"dead letters {dead:,} of {size.poison:,} injected; valid records/s applied before "
        f"the poison {timings[0]:,.0f}, after {timings[2]:,.0f} "
        f"(ratio {timings[2] / timings[0]:.2f})"
    ) + (f"; {outcome.detail}" if outcome.detail else "")
    return outcome


def late_events(lab: Lab, size: Size) -> Outcome:
    """Events behind their partition's watermark: some inside the grace period (on time), some
    beyond it (counted and flagged late)."""
    outcome = Outcome("late_events", "events 20 min (inside the 1 h grace) and 4 h behind")
    settings = lab.settings("late")
    client = connect(settings.clickhouse_url.get_secret_value())
    simulator = simulator_for(settings, seed=13, disorder=CLEAN)
    start = datetime(2021, 6, 1, tzinfo=UTC)
    base = list(simulator.backfill(size.events, start, start + timedelta(days=1)))
    # Behind the 99th percentile of event time, not the newest event: every partition's
    # watermark reaches it, whereas the newest may be one partition's lone follow-up call.
    times = sorted(r.event["occurred_at"] for r in base if r.event is not None)
    newest = times[int(len(times) * 0.99)]
    extra: list[SimRecord] = []
    samples = [r for r in base if r.event is not None and r.event["kind"] == "touch"]
    for i, (behind_s, label) in enumerate([(1200, "inside"), (4 * 3600, "beyond")] * 250):
        template = samples[i % len(samples)]
        assert template.event is not None
        journey = f"late-{label}-{i}"
        event = template.event | {
            "event_id": f"late-{i}",
            "journey_id": journey,
            "occurred_at": newest - behind_s * 1000,
        }
        extra.append(SimRecord(0, journey.encode(), event, None, "valid"))
    lab.worker(settings, "worker")
    publish(settings, base)
    publish(settings, extra)
    judge(lab, outcome, settings, client)
    late = int(client.command("SELECT sum(late) FROM rollup_interactions_hourly"))
    flagged = 250  # the ones 4 h behind
    if late < flagged and outcome.verdict == "exact":
        outcome.verdict = "wrong"
    outcome.detail = f"{late} flagged late (at least the {flagged} sent 4 h behind)" + (
        f"; {outcome.detail}" if outcome.detail else ""
    )
    return outcome


def negative_control(lab: Lab, size: Size) -> Outcome:
    """A deliberately broken sink that inserts every batch twice: the comparison must fail."""
    outcome = Outcome(
        "negative_control", "every batch inserted twice (JOURNEY_FAULT=double)", expect_exact=False
    )
    settings = lab.settings("negative")
    client = connect(settings.clickhouse_url.get_secret_value())
    simulator = simulator_for(settings, seed=17, disorder=CLEAN)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    publish(settings, list(simulator.backfill(size.events // 2, start, start + timedelta(days=7))))
    lab.worker(settings, "worker", fault="double")
    judge(lab, outcome, settings, client)
    return outcome


SCENARIOS: dict[str, Callable[[Lab, Size], Outcome]] = {
    "sigkill_loop": sigkill_loop,
    "stages_apart": stages_apart,
    "zombie_sigstop": zombie,
    "zombie_mid_refresh": zombie_mid_refresh,
    "broker_restart": broker_restart,
    "clickhouse_outage": clickhouse_outage,
    "merges_stopped": merges_stopped,
    "disk_full": disk_full,
    "lost_answer": lost_answer,
    "rebalance": rebalance,
    "poison": poison,
    "late_events": late_events,
    "negative_control": negative_control,
}


def run(lab: Lab, name: str, size: Size) -> Outcome:
    """One scenario, its failures reported as outcomes; its workers stopped at the end."""
    started = time.monotonic()
    try:
        outcome = SCENARIOS[name](lab, size)
    except LaunchError as exc:
        outcome = Outcome(name, "", verdict="infrastructure failed", detail=str(exc)[:500])
    except Exception as exc:
        outcome = Outcome(name, "", verdict="error", detail=f"{type(exc).__name__}: {exc}"[:500])
    finally:
        for worker in lab.workers:
            worker.stop(timeout=20)
        lab.workers.clear()
    outcome.seconds = time.monotonic() - started
    return outcome


@contextlib.contextmanager
def lab_running(root: Path) -> Iterator[Lab | str]:
    """The lab, or the reason it could not start (reported, never a pass)."""
    lab = Lab(root)
    try:
        lab.start()
    except LaunchError as exc:
        lab.stop()
        yield f"infrastructure failed: {exc}"
        return
    try:
        yield lab
    finally:
        lab.stop()


def report(outcomes: list[Outcome], size_name: str) -> str:
    """The Markdown report of a run."""
    lines = [
        f"# Chaos run ({size_name}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| scenario | faults | records | verdict | passed | seconds | detail |",
        "|---|---|---:|---|---|---:|---|",
    ]
    for o in outcomes:
        verdict = o.verdict if o.expect_exact else f"{o.verdict} (must not be exact)"
        lines.append(
            f"| {o.scenario} | {o.faults} | {o.records:,} | {verdict} | "
            f"{'yes' if o.passed else 'NO'} | {o.seconds:.0f} | {o.detail} |"
        )
    return "\n".join(lines) + "\n"
