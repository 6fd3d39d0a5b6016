"""The Kafka topics of the pipeline, declared on a Faust app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.settings import Settings


@dataclass(frozen=True)
class Topics:
    """Faust topic handles: raw bytes in, so the worker itself decides what is valid."""

    interactions: Any
    dead_letters: Any
    customers: Any  # the second stage's input, keyed by customer pseudonym


def declare(app: Any, settings: Settings) -> Topics:
    """Declare the topics on ``app`` (created by ``journey up``/``topics``, not by Faust)."""

    def raw(name: str) -> Any:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
        )

    return Topics(
        interactions=raw(settings.topic_interactions),
        dead_letters=raw(settings.topic_dead_letters),
        customers=raw(settings.topic_customers),
    )
