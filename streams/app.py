"""Builds the Faust application from settings: one place for every Faust option."""

from __future__ import annotations

import faust

from streams.settings import Settings


def broker_urls(bootstrap: str) -> list[str]:
    """Faust wants ``kafka://host:port`` URLs; KAFKA_BOOTSTRAP is a comma-separated list."""
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


def create_app(settings: Settings) -> faust.App:
    """The worker's Faust app; agents are attached by ``streams.worker``."""
    return faust.App(
        settings.app_id,
        broker=broker_urls(settings.kafka_bootstrap),
        # TLS and SASL (PLAIN, SCRAM) for the consumer, the producer and the changelogs.
        broker_credentials=settings.kafka_security.faust_credentials(),
        # Tables are rebuilt from their changelog topics on start; no local disk state to lose.
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        # A new consumer group reads what was published before it started.
        consumer_auto_offset_reset="earliest",
        # Bigger buffers: the agent takes up to 50,000 records per batch (agents/interactions.py).
        stream_buffer_maxsize=65536,
        broker_max_poll_records=5000,
        web_enabled=True,
        web_bind="127.0.0.1",
        web_port=settings.worker_web_port,
        web_host="127.0.0.1",
        datadir=str(settings.state_dir / "worker" / settings.app_id),
        producer_linger_ms=5,
        # A killed worker's partitions move to the survivors after 10 s, not the default 60 s.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        autodiscover=False,
        # The journeys table is rebuilt from its changelog on assignment; a standby copy on
        # every other worker would double the changelog reading for a faster failover that
        # the 10 s session timeout already dominates.
        table_standby_replicas=0,
    )
