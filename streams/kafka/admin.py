"""Talking to the Kafka cluster as an administrator: reachability and explicit topic creation."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from streams.errors import ServiceUnreachable
from streams.kafka.security import PLAINTEXT, KafkaSettings
from streams.settings import Settings

log = logging.getLogger(__name__)
# kafka-python logs every refused connection at ERROR while we probe; our own errors say it once.
logging.getLogger("kafka").setLevel(logging.CRITICAL)


# How long to wait for a broker to answer at all: a broker that is there answers a metadata
# request on first contact, and nobody should wait 15 s to learn that none is.
CONNECT_TIMEOUT_S = 5.0


def _admin(bootstrap: str, timeout: float, security: KafkaSettings) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(
            bootstrap_servers=bootstrap,
            **security.client_options(),
            client_id="journey-admin",
            request_timeout_ms=int(timeout * 1000),
            bootstrap_timeout_ms=int(min(timeout, CONNECT_TIMEOUT_S) * 1000),
        )
    except (KafkaError, OSError) as exc:
        raise ServiceUnreachable("Kafka", bootstrap, exc) from exc


def broker_answers(
    bootstrap: str, timeout: float = CONNECT_TIMEOUT_S, security: KafkaSettings = PLAINTEXT
) -> bool:
    """True if a broker at ``bootstrap`` answers a metadata request."""
    try:
        admin = _admin(bootstrap, timeout, security)
    except ServiceUnreachable:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()


def require_broker(
    bootstrap: str, timeout: float = CONNECT_TIMEOUT_S, security: KafkaSettings = PLAINTEXT
) -> None:
    """Raise ServiceUnreachable (one readable line) if no broker answers at ``bootstrap``."""
    admin = _admin(bootstrap, timeout, security)
    try:
        admin.list_topics()
    except KafkaError as exc:
        raise ServiceUnreachable("Kafka", bootstrap, exc) from exc
    finally:
        admin.close()


def project_topics(settings: Settings) -> list[NewTopic]:
    """Every topic the project writes to, with its partitions and retention."""
    week_ms = str(7 * 24 * 3600 * 1000)
    return [
        NewTopic(
            settings.topic_interactions,
            settings.topic_partitions,
            1,
            topic_configs={"retention.ms": week_ms},
        ),
        # The second stage's input (docs/customer-metrics.md): kept as long as its source.
        NewTopic(
            settings.topic_customers,
            settings.topic_partitions,
            1,
            topic_configs={"retention.ms": week_ms},
        ),
        # Dead letters are evidence: keep them four weeks.
        NewTopic(
            settings.topic_dead_letters,
            settings.topic_partitions,
            1,
            topic_configs={"retention.ms": str(4 * int(week_ms))},
        ),
    ]


def ensure_topics(
    bootstrap: str,
    topics: Iterable[NewTopic],
    timeout: float = 15.0,
    security: KafkaSettings = PLAINTEXT,
) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = _admin(bootstrap, timeout, security)
    created: list[str] = []
    try:
        existing = set(admin.list_topics())
        for topic in topics:
            if topic.name in existing:
                continue
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([topic])
                created.append(topic.name)
    except KafkaError as exc:
        raise ServiceUnreachable("Kafka", bootstrap, exc) from exc
    finally:
        admin.close()
    if created:
        log.info("created topics %s", ", ".join(created))
    return created
