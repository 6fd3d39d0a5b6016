"""The acceptance of stream processing: rollups equal the truth, whatever happens to workers.

Real broker, embedded ClickHouse server, ``journey worker`` processes. The truth is recomputed
from the source topic by ``streams.tools.verify`` (the plain way, none of the worker's machinery).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
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


def test_a_clickhouse_outage_shows_as_a_stall_and_clears(
    services: dict[str, Any],
    pipeline_settings: Settings,
    worker_factory: Callable[..., ManagedProcess],
) -> None:
    """The worker waits out ClickHouse (exactness through an outage is the chaos suite's
    clickhouse_outage); here, what its health says meanwhile and after."""
    # A short stall threshold, so the outage is long enough to be reported as a stall.
    settings = pipeline_settings.model_copy(update={"stall_after_s": 4.0})
    client = connect(settings.clickhouse_url.get_secret_value())
    publish_backfill(settings, 10_000, seed=21)
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
        publish_backfill(settings, 10_000, seed=22)
        time.sleep(12)
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
        "SELECT sum(events), max(watermark), count() FROM pipeline_health "
        "WHERE kafka_topic = {t:String}",
        parameters={"t": settings.topic_interactions},
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
