"""The real broker: explicit topics with the configured partitions, produce and consume."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from streams.kafka_admin import broker_answers, ensure_topics, project_topics
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_topics_are_created_explicitly_with_partitions(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(topic_partitions=4)
    created = ensure_topics(settings.kafka_bootstrap, project_topics(settings))
    assert sorted(created) == sorted([settings.topic_interactions, settings.topic_dead_letters])
    assert ensure_topics(settings.kafka_bootstrap, project_topics(settings)) == []
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        described = admin.describe_topics([settings.topic_interactions])
    finally:
        admin.close()
    assert len(described[0]["partitions"]) == 4


def test_produce_and_consume_round_trip(settings_factory: Callable[..., Settings]) -> None:
    settings = settings_factory()
    ensure_topics(settings.kafka_bootstrap, project_topics(settings))
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    for i in range(500):
        producer.send(settings.topic_interactions, key=f"j{i % 37}".encode(), value=b"%d" % i)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        settings.topic_interactions,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        group_id=settings.app_id,
    )
    values = sorted(int(m.value) for m in consumer)
    consumer.close()
    assert values == list(range(500))


def test_auto_topic_creation_is_off(settings_factory: Callable[..., Settings]) -> None:
    settings = settings_factory()
    assert broker_answers(settings.kafka_bootstrap)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        consumer.topics()
        assert not consumer.partitions_for_topic("never-created-" + settings.topic_prefix)
        assert "never-created-" + settings.topic_prefix not in admin.list_topics()
    finally:
        consumer.close()
        admin.close()
