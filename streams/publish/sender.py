"""Where published records go: the ``Sender`` protocol and the senders behind it."""

from __future__ import annotations

from typing import Any, Protocol

from streams.kafka.security import PLAINTEXT, KafkaSettings


class Sender(Protocol):
    """Where validated records go: ``KafkaSender`` (kafka-python) or ``BatchSender``."""

    failures: list[tuple[int, str]]

    def send(self, key: bytes, value: bytes, line: int = 0) -> None: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self) -> None: ...


def open_sender(bootstrap: str, topic: str, security: KafkaSettings = PLAINTEXT) -> Sender:
    """The fastest sender available: aiokafka batches (see ``streams.kafka.batch_sender``)."""
    from streams.kafka.admin import require_broker
    from streams.kafka.batch_sender import BatchSender

    require_broker(bootstrap, security=security)
    return BatchSender(bootstrap, topic, security=security)


class KafkaSender:
    """A kafka-python producer tuned for throughput, that remembers failed deliveries."""

    def __init__(
        self, bootstrap: str, topic: str, security: KafkaSettings = PLAINTEXT, **overrides: Any
    ) -> None:
        from kafka import KafkaProducer

        from streams.errors import ServiceUnreachable
        from streams.kafka.admin import require_broker

        require_broker(bootstrap, security=security)
        config: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            **security.client_options(),
            "acks": "all",
            # The broker drops a retried batch it already has: a retry never duplicates.
            "enable_idempotence": True,
            "linger_ms": 20,
            "batch_size": 512 * 1024,
            "compression_type": "lz4",
            "max_request_size": 4 * 1024 * 1024,
        }
        config.update(overrides)
        from kafka.errors import KafkaConfigurationError, KafkaError

        try:
            self._producer = KafkaProducer(**config)
        except KafkaConfigurationError:
            raise
        except KafkaError as exc:
            raise ServiceUnreachable("Kafka", bootstrap, exc) from exc
        self.topic = topic
        self.failures: list[tuple[int, str]] = []

    def send(self, key: bytes, value: bytes, line: int = 0) -> None:
        """Queue one record; a delivery failure is recorded against ``line``."""
        future = self._producer.send(self.topic, key=key, value=value)
        if line:
            future.add_errback(lambda exc: self.failures.append((line, str(exc))))
        else:
            future.add_errback(lambda exc: self.failures.append((0, str(exc))))

    def flush(self, timeout: float | None = None) -> None:
        self._producer.flush(timeout=timeout)

    def close(self) -> None:
        self._producer.flush()
        self._producer.close()
