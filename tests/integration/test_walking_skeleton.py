"""Event to ClickHouse through the real broker and the Faust worker, counted exactly."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.settings import Settings
from tests.support import wait_for

pytestmark = pytest.mark.integration

CUSTOMER = "ph:k1:" + "ab" * 16


def event(i: int) -> dict[str, object]:
    return {
        "event_id": f"skeleton-{i}",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": f"2021-05-{1 + i % 28:02d}T10:00:00.000Z",
        "tenant": "acme",
        "industry": "telecom",
        "use_case": "digital_customer_service",
        "channel": ("web", "phone", "email")[i % 3],
        "journey_id": f"j-{i % 50}",
        "customer_id": CUSTOMER,
        "direction": "inbound",
    }


def send_events(producer: KafkaProducer, settings: Settings, numbers: range) -> None:
    """Publish ``event(i)`` for each i, keyed by journey like the publisher does."""
    for i in numbers:
        producer.send(
            settings.topic_interactions,
            key=f"j-{i % 50}".encode(),
            value=json.dumps(event(i)).encode(),
        )


def test_published_events_reach_clickhouse_exactly(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    send_events(producer, settings, range(3000))
    producer.send(settings.topic_interactions, key=b"bad", value=b"{not json")
    producer.flush()

    worker = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())

    def count() -> int:
        return int(client.command("SELECT count() FROM interactions"))

    wait_for(
        lambda: count() >= 3000, timeout=120, what=f"3000 rows in ClickHouse; {worker.log_tail()}"
    )
    # Events published while the worker runs are picked up too.
    send_events(producer, settings, range(3000, 3500))
    producer.flush()
    producer.close()
    wait_for(lambda: count() >= 3500, timeout=60, what="3500 rows")
    import time

    time.sleep(2)  # anything extra (a duplicate) would have landed by now
    assert count() == 3500
    by_channel = dict(
        client.query("SELECT channel, count() FROM interactions GROUP BY 1").result_rows
    )
    assert by_channel == {"web": 1167, "phone": 1167, "email": 1166}
    assert client.command("SELECT uniqExact(event_id) FROM interactions") == 3500

    dead = KafkaConsumer(
        settings.topic_dead_letters,
        bootstrap_servers=settings.kafka.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    letters = [json.loads(m.value) for m in dead]
    dead.close()
    assert len(letters) == 1
    assert "is not JSON" in letters[0]["reason"]


def test_restarted_worker_does_not_count_twice(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    send_events(producer, settings, range(2000))
    producer.flush()
    client = connect(settings.clickhouse_url.get_secret_value())
    worker = worker_factory(settings)
    wait_for(
        lambda: int(client.command("SELECT count() FROM interactions")) >= 2000,
        timeout=120,
        what="first 2000 rows",
    )
    # Killed without a chance to commit its Kafka offsets: the restart replays from older
    # offsets, and ClickHouse's own high-water marks make the replay harmless.
    worker.stop(timeout=0.1, sig=9)
    send_events(producer, settings, range(2000, 2600))
    producer.flush()
    producer.close()
    worker_factory(settings)
    wait_for(
        lambda: int(client.command("SELECT count() FROM interactions")) >= 2600,
        timeout=120,
        what="2600 rows after restart",
    )
    import time

    time.sleep(3)
    assert int(client.command("SELECT count() FROM interactions")) == 2600


def test_records_deleted_while_the_worker_was_stopped_are_reported_not_skipped_silently(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    """Retention (here Kafka's delete-records) removes records a stopped worker never applied:
    the worker resumes after them, and says so in ClickHouse, /metrics, `journey losses`,
    the status check, until an operator acknowledges it."""
    import time
    import urllib.request

    from kafka import KafkaAdminClient, TopicPartition

    from deploy.local.stack import records_status
    from streams.tools import verify
    from tests.integration.pipeline import wait_customers
    from tests.support import run_journey, settings_env, worker_web_port

    settings = pipeline_settings
    topic = settings.topic_interactions
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    send_events(producer, settings, range(1000))
    producer.flush()
    client = connect(settings.clickhouse_url.get_secret_value())
    worker = worker_factory(settings)
    wait_for(lambda: verify.applied_records(client, topic) >= 1000, 120, "the first 1000")
    worker.stop(timeout=30)
    applied = {
        int(p): int(o) + 1
        for p, o in client.query(
            "SELECT kafka_partition, max(kafka_offset) FROM ingest_progress "
            "WHERE kafka_topic = {t:String} GROUP BY 1",
            parameters={"t": topic},
        ).result_rows
    }
    send_events(producer, settings, range(1000, 1600))
    producer.flush()
    producer.close()

    # While it is stopped, the topic drops all but the last 10 records of each partition.
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    reader = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap)
    partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic)]
    ends = {tp.partition: int(o) for tp, o in reader.end_offsets(partitions).items()}
    reader.close()
    cut = {p: max(0, end - 10) for p, end in ends.items()}
    admin.delete_records({TopicPartition(topic, p): o for p, o in cut.items() if o > 0})
    admin.close()
    expected = {p: (applied.get(p, 0), cut[p] - 1) for p in cut if cut[p] > applied.get(p, 0)}
    assert expected, "the test must delete records the worker never applied"
    lost_total = sum(last - first + 1 for first, last in expected.values())

    worker = worker_factory(settings)
    remaining = sum(ends.values()) - sum(cut.values())
    wait_for(
        lambda: int(client.command("SELECT count() FROM interactions")) >= 1600 - lost_total,
        120,
        f"the records the topic still holds; {worker.log_tail()}",
    )
    time.sleep(2)  # anything extra would have landed by now
    assert int(client.command("SELECT count() FROM interactions")) == 1600 - lost_total
    assert remaining <= 600 - lost_total + 10 * len(ends)

    rows = client.query(
        "SELECT kafka_partition, first_offset, last_offset, lost FROM ingest_losses FINAL "
        "ORDER BY kafka_partition"
    ).result_rows
    assert {int(p): (int(a), int(b)) for p, a, b, _ in rows} == expected
    assert all(int(n) == b - a + 1 for _, a, b, n in rows)
    assert "records lost: partition" in worker.log_tail()

    metrics = (
        urllib.request.urlopen(f"http://127.0.0.1:{worker_web_port(worker)}/metrics", timeout=5)
        .read()
        .decode()
    )
    shown = {
        int(line.split('partition="')[1].split('"')[0]): int(float(line.rsplit(" ", 1)[1]))
        for line in metrics.splitlines()
        if line.startswith("journey_lost_offsets{")
    }
    assert shown == {p: last - first + 1 for p, (first, last) in expected.items()}

    env = settings_env(settings)
    listed = run_journey("losses", env=env)
    assert listed.returncode == 1, listed.stdout + listed.stderr
    assert "NOT ACKNOWLEDGED" in listed.stdout
    status = records_status(settings)
    assert not status.healthy and "deleted from the topic" in status.detail

    assert run_journey("losses", "--acknowledge", env=env).returncode == 0
    after = run_journey("losses", env=env)
    assert after.returncode == 0 and "[acknowledged]" in after.stdout
    assert records_status(settings).healthy

    # `journey verify --offsets` checks what the topic still holds and names what it cannot.
    ranges = [f"{p}:0-{end - 1}" for p, end in sorted(ends.items()) if end]
    checked = run_journey("verify", *(a for r in ranges for a in ("--offsets", r)), env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for p, end in ends.items():
        if cut[p]:
            assert (
                f"partition {p}:{cut[p]}-{end - 1}: exact: {end - cut[p]:,} records"
                in checked.stdout
            ), checked.stdout
            assert f"not checked: {cut[p]:,} offsets before the topic's log start" in checked.stdout
    # For the window of those events, the rollups step recomputes every rollup from the raw
    # table, the deleted records' window included: exact (the rollups never had them either).
    wait_customers(settings, client)
    window = run_journey("verify", "--from", "2021-05-01", "--to", "2021-06-01", env=env)
    assert window.returncode == 0, window.stdout + window.stderr
    assert f"rollups against the raw table: exact: {1600 - lost_total:,} events" in window.stdout
    assert "not checked:" in window.stdout and "before the topic's log start" in window.stdout
