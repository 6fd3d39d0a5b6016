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
