"""Helpers of the exactness tests: publish simulated traffic, wait for the worker, compare."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from streams.kafka.batch_sender import BatchSender
from streams.logic.aggregate import Rules
from streams.logic.customers import windows_of
from streams.settings import Settings
from streams.simulate.generator import Disorder
from streams.simulate.run import publish_records, simulator_for
from streams.tools import verify
from streams.tools.verify import applied_records

DISORDER = Disorder(
    late_fraction=0.05,
    duplicate_fraction=0.03,
    receipt_first_fraction=0.10,
    overtaken_fraction=0.05,  # corrections in the stream: read pairs moved to earlier signals
    malformed_fraction=0.01,
)


def publish_backfill(
    settings: Settings,
    events: int,
    *,
    seed: int = 7,
    start: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    end: datetime = datetime(2022, 1, 1, tzinfo=UTC),
) -> Counter[str]:
    """Publish ``events`` calibrated interactions with disorder; return counts by label."""
    simulator = simulator_for(settings, seed, disorder=DISORDER)
    records = simulator.backfill(events, start, end)
    sender = BatchSender(settings.kafka.bootstrap, settings.topic_interactions)
    try:
        report = publish_records(records, sender)
    finally:
        sender.close()
    return report.published


def applied_backfill(
    settings: Settings, start_worker: Callable[[Settings], Any], events: int = 20_000
) -> tuple[Client, Counter[str]]:
    """Publish ``events`` calibrated interactions (duplicates, malformed and late records
    among them), let a worker apply them, both stages, and stop it (nothing changes under
    the checks that follow); the administrator's client and the counts by label."""
    from streams.clickhouse.client import connect

    published = publish_backfill(settings, events)
    worker = start_worker(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    wait_applied(client, settings.topic_interactions, sum(published.values()), 180, worker.log_tail)
    wait_customers(settings, client)
    worker.stop(timeout=30)
    return client, published


def inserts_running(client: Client) -> int:
    """How many inserts into this database the server is executing now."""
    return int(
        client.command(
            "SELECT count() FROM system.processes"
            " WHERE query_kind = 'Insert' AND current_database = currentDatabase()"
        )
    )


def wait_applied(
    client: Client, topic: str, total: int, timeout: float, describe: Callable[[], str]
) -> None:
    """Wait until every published record has been applied, or fail saying how far it got.

    Applied means the insert that wrote the progress has finished: the server commits each
    view's table in turn, so the progress can be visible while the same insert is still
    writing another table; a comparison started then would see rows missing."""
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done = applied_records(client, topic)
        if done >= total and not inserts_running(client):
            return
        time.sleep(0.5)
    raise AssertionError(f"{done} of {total} records applied after {timeout:.0f}s; {describe()}")


def wait_customers(
    settings: Settings, client: Client, timeout: float = 120, poll_s: float = 0.5
) -> None:
    """Wait until the customers stage has applied what the ingest stage handed on (call it
    once the ingest stage has applied everything), looking every ``poll_s``."""
    deadline = time.monotonic() + timeout
    behind = 0
    while time.monotonic() < deadline:
        behind = verify.customers_behind(settings, client)
        if not behind and not inserts_running(client):
            return
        time.sleep(poll_s)
    raise AssertionError(f"the customers stage is {behind} records behind after {timeout:.0f}s")


def assert_exact(settings: Settings, client: Client) -> verify.Truth:
    """Every rollup, the customers stage's too, equals the truth recomputed from the topic
    (once the customers stage has caught up); return that truth."""
    wait_customers(settings, client)
    partitions = verify.read_partitions(settings.kafka.bootstrap, settings.topic_interactions)
    rules = Rules(grace_ms=round(settings.late_grace_s * 1000))
    truth = verify.compute_truth(partitions, rules, windows_of(settings))
    verdicts = verify.check(client, truth)
    report = "\n".join(verify.summarise(verdicts))
    assert all(v.exact for v in verdicts), f"rollups differ from the truth:\n{report}"
    return truth
