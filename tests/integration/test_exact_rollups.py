"""The acceptance of stream processing: rollups equal the truth, whatever happens to workers.

Real broker, embedded ClickHouse server, ``journey worker`` processes. The truth is recomputed
from the source topic by ``streams.tools.verify`` (the plain way, none of the worker's machinery).
"""

from __future__ import annotations

import json
import random
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from kafka import KafkaProducer

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.settings import Settings
from tests.integration.pipeline import (
    applied_records,
    assert_exact,
    publish_backfill,
    wait_applied,
)
from tests.support import run_journey, settings_env, wait_for, worker_web_port

pytestmark = pytest.mark.integration


def total_records(settings: Settings) -> int:
    from streams.tools import verify

    parts = verify.read_partitions(settings.kafka.bootstrap, settings.topic_interactions)
    return sum(len(p) for p in parts)


def test_two_hundred_thousand_events_with_disorder_match_the_truth(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    published = publish_backfill(settings, 200_000)
    assert published["malformed"] >= 1000 and published["duplicate"] > 0
    worker = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    total = sum(published.values())
    wait_applied(client, settings.topic_interactions, total, 300, worker.log_tail)
    truth = assert_exact(settings, client)
    dead = int(client.command("SELECT count() FROM dead_letters"))
    assert dead == published["malformed"]
    assert truth.duplicates == published["duplicate"]
    assert len(truth.facts.facts("interaction")) == published["valid"]
    # Late events were applied to their own hours and counted as late, not dropped.
    late = int(client.command("SELECT sum(late) FROM rollup_interactions_hourly"))
    assert late > 0


def _kill_loop(
    settings: Settings,
    worker_factory: Callable[..., ManagedProcess],
    client: Any,
    kills: int,
    rng: random.Random,
) -> ManagedProcess:
    worker = worker_factory(settings)
    for _ in range(kills):
        before = applied_records(client, settings.topic_interactions)
        # Wait until this incarnation is applying records, then kill it at a random moment.
        wait_for(
            lambda b=before: applied_records(client, settings.topic_interactions) > b,
            timeout=120,
            what=f"the worker to apply records; {worker.log_tail()}",
            interval=0.1,
        )
        time.sleep(rng.uniform(0.0, 2.0))
        worker.stop(timeout=0.1, sig=signal.SIGKILL)
        worker = worker_factory(settings)
    return worker


def test_sigkill_at_random_moments_changes_nothing(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    client = connect(settings.clickhouse_url.get_secret_value())
    published = publish_backfill(settings, 60_000, seed=11)
    # More traffic keeps arriving while the worker is being killed: every incarnation has
    # records to apply when it is killed (the worker drains a backlog in seconds).
    done = threading.Event()

    def traffic() -> None:
        seed = 100
        while not done.is_set():
            publish_backfill(settings, 4_000, seed=seed)
            seed += 1
            time.sleep(0.5)

    more = threading.Thread(target=traffic)
    more.start()
    try:
        worker = _kill_loop(settings, worker_factory, client, kills=5, rng=random.Random(5))
    finally:
        done.set()
        more.join()
    total = total_records(settings)
    assert total > sum(published.values())
    wait_applied(client, settings.topic_interactions, total, 300, worker.log_tail)
    assert_exact(settings, client)
    replays = int(
        client.command("SELECT countDistinct(worker) FROM pipeline_health")
    )  # every incarnation wrote progress rows
    assert replays >= 2


def test_clickhouse_stopped_for_thirty_seconds_mid_stream(
    services: dict[str, Any],
    pipeline_settings: Settings,
    worker_factory: Callable[..., ManagedProcess],
) -> None:
    # A short stall threshold, so the outage is long enough to be reported as a stall.
    settings = pipeline_settings.model_copy(update={"stall_after_s": 5.0})
    client = connect(settings.clickhouse_url.get_secret_value())
    publish_backfill(settings, 30_000, seed=21)
    worker = worker_factory(settings)
    wait_for(
        lambda: applied_records(client, settings.topic_interactions) > 0,
        timeout=120,
        what=f"first records applied; {worker.log_tail()}",
    )
    port = worker_web_port(worker)
    clickhouse = services["clickhouse"]
    clickhouse.stop()
    try:
        # Traffic keeps coming while ClickHouse is away; the worker must wait, not die.
        publish_backfill(settings, 30_000, seed=22)
        time.sleep(30)
        assert worker.is_running(), f"the worker died without ClickHouse: {worker.log_tail()}"
        # Alive, but making no progress with records waiting: its health says so.
        ready = readiness(port)
        assert not ready["ready"] and ready["stalled"], ready
        assert any("no progress" in r for r in ready["reasons"]), ready
        metrics = metrics_text(port)
        stalled = re.search(r"^journey_stalled_partitions (\d+)", metrics, re.M)
        assert stalled and int(stalled.group(1)) >= 1, metrics
        env = {**settings_env(settings), "JOURNEY_WORKER_WEB_PORT": str(port)}
        status = run_journey("status", env=env)
        assert status.returncode == 1
        (line,) = [ln for ln in status.stdout.splitlines() if ln.startswith("worker")]
        assert "DOWN" in line and "no progress" in line, status.stdout
    finally:
        clickhouse.start()
    client = connect(settings.clickhouse_url.get_secret_value())
    total = total_records(settings)
    wait_applied(client, settings.topic_interactions, total, 300, worker.log_tail)
    assert_exact(settings, client)
    assert "failed" in worker.log_path.read_text()  # it did notice, and retried
    wait_for(lambda: readiness(port)["ready"], 30, "the worker to be ready again")
    assert "journey_stalled_partitions 0" in metrics_text(port)


def readiness(port: int) -> dict[str, Any]:
    """The worker's /ready answer, 200 or 503."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read()))


def metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def test_two_workers_with_one_stopped_and_restarted(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    client = connect(settings.clickhouse_url.get_secret_value())
    publish_backfill(settings, 40_000, seed=31)
    first = worker_factory(settings, name="worker-a")
    second = worker_factory(settings, name="worker-b")
    wait_for(
        lambda: applied_records(client, settings.topic_interactions) > 0,
        timeout=120,
        what=f"records applied; {first.log_tail()}",
    )
    more = threading.Thread(target=publish_backfill, args=(settings, 40_000), kwargs={"seed": 32})
    more.start()
    second.stop(timeout=30)  # a rebalance hands its partitions to the first
    time.sleep(3)
    rejoined = datetime.now(UTC)
    second = worker_factory(settings, name="worker-b")  # and another gives some back
    more.join()
    # The engine can drain a 40,000-record backlog before the rejoining worker is assigned
    # anything, so keep a trickle coming until both workers have flushed since it rejoined:
    # otherwise the test would prove nothing about two owners.
    seed = 33
    deadline = time.monotonic() + 180
    while flushing_workers(client, rejoined) < 2:
        assert time.monotonic() < deadline, (
            f"the rejoined worker never flushed; {second.log_tail()}"
        )
        publish_backfill(settings, 1_000, seed=seed)
        seed += 1
        time.sleep(2)
    total = total_records(settings)
    wait_applied(client, settings.topic_interactions, total, 300, first.log_tail)
    assert_exact(settings, client)


def flushing_workers(client: Client, since: datetime) -> int:
    """How many worker processes have flushed since ``since``."""
    return int(
        client.command(
            "SELECT countDistinct(worker) FROM pipeline_health"
            " WHERE flushed_at >= {since:DateTime64(3)}",
            parameters={"since": since},
        )
    )


def test_a_backfill_spanning_many_months_and_the_health_it_reports(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    """One batch touching 180 monthly partitions of the raw table still lands (ClickHouse's
    default refuses more than 100 in one insert), and the worker reports its health."""
    settings = pipeline_settings
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    for i in range(180):
        year, month = 2005 + i // 12, 1 + i % 12
        value = {
            "event_id": f"old-{i}",
            "schema_version": 1,
            "kind": "touch",
            "occurred_at": f"{year}-{month:02d}-15T12:00:00Z",
            "tenant": "acme",
            "industry": "utilities",
            "use_case": "personalized_retention",
            "channel": "mail",
            "journey_id": f"old-{i % 7}",
            "customer_id": "ph:k1:" + "ef" * 16,
            "direction": "outbound",
        }
        producer.send(
            settings.topic_interactions,
            key=value["journey_id"].encode(),
            value=json.dumps(value).encode(),
        )
    producer.flush()
    producer.close()
    worker = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    wait_applied(client, settings.topic_interactions, 180, 120, worker.log_tail)
    assert_exact(settings, client)
    months = int(client.command("SELECT uniqExact(toYYYYMM(occurred_at)) FROM interactions"))
    assert months == 180
    health = client.query(
        "SELECT sum(events), max(watermark), count() FROM pipeline_health"
    ).result_rows[0]
    assert health[0] == 180 and str(health[1]).startswith("2019-12-15")
    port = worker_web_port(worker)
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "journey_events_total" in text and "journey_consumer_lag" in text
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("journey_events_total{")
    )
    assert total == 180
    # Readiness (the Kubernetes probe): partitions assigned and ClickHouse answering.
    ready = json.loads(
        urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5).read().decode()
    )
    assert ready["ready"] and ready["partitions"] and not ready["reasons"]
