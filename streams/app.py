"""Builds the Faust application from settings: one place for every Faust option."""

from __future__ import annotations

from pathlib import Path

import faust

from streams.settings import Settings

# The most records one fetch hands over (Faust's broker_max_poll_records): a fetched partition
# batch, one event of the ingest agent's stream, holds at most this many.
MAX_POLL_RECORDS = 5_000

# Faust's aiokafka transport delivering an agent's topics one partition batch at a time
# (streams/agents/faust_batches.py, registered as the ``journey`` transport in pyproject.toml).
TRANSPORT = "journey"


def broker_urls(bootstrap: str) -> list[str]:
    """Faust wants ``<transport>://host:port`` URLs; KAFKA_BOOTSTRAP is comma-separated."""
    return [f"{TRANSPORT}://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


def data_dir(settings: Settings) -> Path:
    """Where this worker keeps its journey store (RocksDB). Per web port: two workers on one
    machine each need a web port of their own, and must not share a store (RocksDB locks)."""
    return settings.state_dir / "worker" / settings.app_id / str(settings.worker_web_port)


def create_app(settings: Settings) -> faust.App:
    """The worker's Faust app; agents are attached by ``streams.worker``."""
    data_dir(settings).mkdir(parents=True, exist_ok=True)  # Faust makes only the last level
    return faust.App(
        settings.app_id,
        broker=broker_urls(settings.kafka.bootstrap),
        # TLS and SASL (PLAIN, SCRAM) for the consumer, the producer and the changelogs.
        broker_credentials=settings.kafka.faust_credentials(),
        # The journeys table lives on disk (RocksDB, one database per partition): memory does
        # not grow with live journeys, and a restart recovers only the changelog's tail.
        store="rocksdb://",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        # A new consumer group reads what was published before it started.
        consumer_auto_offset_reset="earliest",
        # One event per fetched partition batch: the agent's queue holds a few batches, each of
        # at most broker_max_poll_records records (memory stays bounded while it inserts).
        stream_buffer_maxsize=16,
        broker_max_poll_records=MAX_POLL_RECORDS,
        consumer_max_fetch_size=4 * 1024 * 1024,
        web_enabled=True,
        web_bind="127.0.0.1",
        web_port=settings.worker_web_port,
        web_host="127.0.0.1",
        datadir=str(data_dir(settings)),
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
