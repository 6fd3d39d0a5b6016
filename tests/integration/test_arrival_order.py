"""The same events in two arrival orders, through the real broker and workers, give the same
rollups: "first" is first by event time, and the worker corrects what a later-arriving
earlier event changes (docs/exactly-once.md)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.kafka.admin import ensure_topics, project_topics
from streams.kafka.batch_sender import BatchSender
from streams.settings import Settings
from streams.simulate.generator import Disorder, SimRecord
from streams.simulate.run import publish_records, simulator_for
from streams.tools import verify
from tests.integration.pipeline import assert_exact, wait_applied

pytestmark = pytest.mark.integration
GRAINS = ("hourly", "daily")


def _corrections_needed(records: list[SimRecord]) -> tuple[int, int]:
    """(journeys whose first record to arrive is not their earliest event, messages whose
    first read signal to arrive is not their earliest): what the worker must correct."""
    first_arrived: dict[str, int] = {}
    earliest: dict[str, int] = {}
    signal_arrived: dict[str, int] = {}
    earliest_signal: dict[str, int] = {}
    for record in records:
        event = record.event
        if event is None:
            continue
        at = event["occurred_at"]
        first_arrived.setdefault(event["journey_id"], at)
        earliest[event["journey_id"]] = min(at, earliest.get(event["journey_id"], at))
        if event.get("read_signal"):
            signal_arrived.setdefault(event["message_id"], at)
            earliest_signal[event["message_id"]] = min(
                at, earliest_signal.get(event["message_id"], at)
            )
    journeys = sum(first_arrived[j] != at for j, at in earliest.items())
    messages = sum(signal_arrived[m] != at for m, at in earliest_signal.items())
    return journeys, messages


def test_two_arrival_orders_of_the_same_events_give_identical_rollups(
    settings_factory: Callable[..., Settings],
    worker_factory: Callable[..., ManagedProcess],
    tmp_path: Path,
) -> None:
    # Within the documented disorder: every journey's events arrive within its state's life,
    # and, since *late* is about arrival by definition (an event behind the watermark of what
    # arrived before it), a grace longer than the traffic's span, so no event is late in
    # either order and every column of every rollup can be compared.
    on_time = {"late_grace_s": 400 * 86_400.0, "journey_state_days": 400.0}
    runs = [settings_factory(state_dir=tmp_path / name, **on_time) for name in ("a", "b")]
    for settings in runs:
        migrate(settings.clickhouse_url.get_secret_value())
        ensure_topics(settings.kafka.bootstrap, project_topics(settings))
    disorder = Disorder(
        late_fraction=0.05,
        duplicate_fraction=0.03,
        receipt_first_fraction=0.10,
        overtaken_fraction=0.50,
        malformed_fraction=0.01,
    )
    simulator = simulator_for(runs[0], 31, disorder=disorder)
    published = simulator.backfill(
        20_000, datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 12, 31, tzinfo=UTC)
    )
    shuffled = list(published)
    random.Random(5).shuffle(shuffled)
    journeys, messages = _corrections_needed(shuffled)
    assert journeys > 1000 and messages > 50, (journeys, messages)
    for settings, records in zip(runs, (published, shuffled), strict=True):
        sender = BatchSender(settings.kafka.bootstrap, settings.topic_interactions)
        try:
            publish_records(records, sender)
        finally:
            sender.close()
    workers = [worker_factory(settings) for settings in runs]
    clients = [connect(s.clickhouse_url.get_secret_value()) for s in runs]
    for settings, client, worker in zip(runs, clients, workers, strict=True):
        wait_applied(client, settings.topic_interactions, len(published), 300, worker.log_tail)
        assert_exact(settings, client)  # each equals its own topic's truth
    checks = verify.comparisons(clients[0])
    in_order, reordered = (verify.measured(client, checks) for client in clients)
    for check in checks:
        table = check.table
        assert in_order[table] == reordered[table], table
    # Every table holds rows to compare, but those only contract 1.1's fields feed (the
    # simulator publishes none of them yet).
    empty = {check.table for check in checks if not in_order[check.table]}
    only_1_1 = {f"rollup_{t}_{g}" for t in ("delivery_failures", "conversations") for g in GRAINS}
    assert empty <= only_1_1, empty
    late = [int(c.command("SELECT sum(late) FROM rollup_interactions_hourly")) for c in clients]
    assert late == [0, 0]
