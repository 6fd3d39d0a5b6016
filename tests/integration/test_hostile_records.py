"""One hostile record never stops ingestion: every class, between valid traffic, real worker.

A producer that bypasses the publisher (kcat, a careless client) can put anything on the
source topic. Each class of record that once stopped the worker for good, or could, is
published through the real broker between two runs of calibrated traffic. Every valid record
must be counted exactly, every hostile one must be a dead letter with a reason that fits the
dead-letter topic, and the worker must report itself ready and making progress.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.settings import Settings
from tests.hostile import NEAR_BROKER_MAX, hostile_records
from tests.integration.pipeline import assert_exact, publish_backfill, wait_applied
from tests.support import worker_web_port

pytestmark = pytest.mark.integration


def publish_hostile(settings: Settings) -> int:
    records = hostile_records()
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap,
        acks="all",
        max_request_size=2 * NEAR_BROKER_MAX,
    )
    for i, record in enumerate(records):
        producer.send(
            settings.topic_interactions,
            key=f"hostile-journey-{i}".encode(),
            value=record.value,
            headers=record.headers,
        )
    producer.flush()
    producer.close()
    return len(records)


def dead_letter_messages(settings: Settings) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap, enable_auto_commit=False)
    try:
        topic = settings.topic_dead_letters
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        found: list[dict[str, Any]] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for messages in consumer.poll(timeout_ms=1000).values():
                found += [json.loads(m.value) | {"_bytes": len(m.value)} for m in messages]
        return found
    finally:
        consumer.close()


def test_every_hostile_record_is_a_dead_letter_and_nothing_valid_is_lost(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    before = publish_backfill(settings, 1_500, seed=41)
    hostile = publish_hostile(settings)
    after = publish_backfill(settings, 1_500, seed=42)
    worker = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    total = sum(before.values()) + hostile + sum(after.values())
    wait_applied(client, settings.topic_interactions, total, 180, worker.log_tail)
    assert_exact(settings, client)

    malformed = before["malformed"] + after["malformed"]
    dead = int(client.command("SELECT count() FROM dead_letters"))
    assert dead == hostile - len([h for h in hostile_records() if h.valid]) + malformed
    rows = client.query(
        "SELECT reason, original_size, length(original) FROM dead_letters "
        "WHERE original_size > 100000"
    ).result_rows
    assert len(rows) == 3 and all(kept < size for _, size, kept in rows), (
        rows
    )  # 900 KB, 1 MB, nesting

    letters = dead_letter_messages(settings)
    assert len(letters) == dead
    assert max(m["_bytes"] for m in letters) < 200_000  # far inside the producer's 1 MB limit
    big = [m for m in letters if m["original_bytes"] >= 900_000]
    assert len(big) == 2 and all(m["original_cut"] and len(m["original_sha256"]) == 64 for m in big)
    assert all(m["reason"] and m["code"] for m in letters)

    port = worker_web_port(worker)
    ready = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5).read())
    assert ready["ready"], ready
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    assert b"journey_stalled_partitions 0" in metrics
    # All of it on the insert-only worker account (tests/conftest.py worker_factory).
    assert "ACCESS_DENIED" not in worker.log_path.read_text()
    users = client.query("SELECT DISTINCT worker FROM pipeline_health").result_rows
    assert users and b"journey_worker:" in Path(f"/proc/{worker.pid()}/environ").read_bytes()
