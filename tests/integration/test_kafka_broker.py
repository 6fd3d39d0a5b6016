"""The real broker: explicit topics with the configured partitions, produce and consume."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from streams.kafka.admin import broker_answers, ensure_topics, project_topics
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_topics_are_created_explicitly_with_partitions(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(topic_partitions=4)
    created = ensure_topics(settings.kafka.bootstrap, project_topics(settings))
    assert sorted(created) == sorted(
        [settings.topic_interactions, settings.topic_customers, settings.topic_dead_letters]
    )
    assert ensure_topics(settings.kafka.bootstrap, project_topics(settings)) == []
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    try:
        described = admin.describe_topics([settings.topic_interactions])
    finally:
        admin.close()
    assert len(described[0]["partitions"]) == 4


def test_produce_and_consume_round_trip(settings_factory: Callable[..., Settings]) -> None:
    settings = settings_factory()
    ensure_topics(settings.kafka.bootstrap, project_topics(settings))
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    for i in range(500):
        producer.send(settings.topic_interactions, key=f"j{i % 37}".encode(), value=b"%d" % i)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        settings.topic_interactions,
        bootstrap_servers=settings.kafka.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        group_id=settings.app_id,
    )
    values = sorted(int(m.value) for m in consumer)
    consumer.close()
    assert values == list(range(500))


def test_auto_topic_creation_is_off(settings_factory: Callable[..., Settings]) -> None:
    settings = settings_factory()
    assert broker_answers(settings.kafka.bootstrap)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap)
    try:
        consumer.topics()
        assert not consumer.partitions_for_topic("never-created-" + settings.topic_prefix)
        assert "never-created-" + settings.topic_prefix not in admin.list_topics()
    finally:
        consumer.close()
        admin.close()


def test_a_topic_reader_reads_end_offsets_and_ranges_outside_any_group(
    settings_factory: Callable[..., Settings],
) -> None:
    import asyncio

    from kafka.admin import NewTopic
    from kafka.structs import TopicPartition

    from streams.kafka.batch_sender import BatchProducer
    from streams.kafka.topic_reader import TopicReader

    settings = settings_factory()
    topic = f"{settings.topic_prefix}reader"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])

        async def run() -> tuple[dict[int, int], list[tuple[int, bytes, bytes | None]], list[Any]]:
            producer = BatchProducer(settings.kafka.bootstrap)
            reader = TopicReader(settings.kafka.bootstrap)
            try:
                records = [(b"k%d" % i, None if i == 7 else b"v%d" % i) for i in range(20)]
                for delivery in await producer.send(topic, 1, records):
                    await delivery.first_offset()
                ends = await reader.ends(topic, [0, 1])
                middle = await reader.read(topic, 1, 5, 9)
                # Records before the log start are gone: the read starts at the log start.
                admin.delete_records({TopicPartition(topic, 1): 12})
                after_delete = await reader.read(topic, 1, 3, 14)
                return ends, middle, after_delete
            finally:
                await reader.stop()
                await producer.stop()

        ends, middle, after_delete = asyncio.run(run())
    finally:
        admin.delete_topics([topic])
        admin.close()
    assert ends == {0: 0, 1: 20}
    assert middle == [(5, b"k5", b"v5"), (6, b"k6", b"v6"), (7, b"k7", None), (8, b"k8", b"v8")]
    assert [offset for offset, _, _ in after_delete] == [12, 13]
