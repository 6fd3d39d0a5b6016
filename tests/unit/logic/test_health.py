"""A worker that is alive but applies nothing says so: the stall rule, and how it is shown."""

from __future__ import annotations

from streams.clickhouse.losses import pending
from streams.logic.health import (
    LostOffsets,
    loss_reasons,
    lost_offsets,
    partition_health,
    stall_reasons,
)
from streams.metrics import WorkerMetrics


def test_records_waiting_and_no_progress_past_the_threshold_is_a_stall() -> None:
    health = partition_health(
        applied={0: 100, 1: 50, 2: 10},
        highwaters={0: 180, 1: 50, 2: 30, 3: None},
        last_progress={0: 0.0, 1: 0.0, 2: 95.0, 3: 0.0},
        now=100.0,
        stall_after_s=60,
    )
    by_partition = {h.partition: h for h in health}
    assert by_partition[0].stalled and by_partition[0].lag == 80  # waiting, idle 100 s
    assert not by_partition[1].stalled  # idle but nothing waiting: caught up
    assert not by_partition[2].stalled  # waiting, but progressed 5 s ago
    assert not by_partition[3].stalled and by_partition[3].lag == 0  # end not known yet
    (reason,) = stall_reasons(health, 60)
    assert reason.startswith("partition 0: 80 records waiting and no progress for 100s")


def test_metrics_show_the_lag_measured_now_not_at_the_last_flush() -> None:
    metrics = WorkerMetrics()
    metrics.lag = {0: 5}  # what the last flush saw
    health = partition_health({0: 10}, {0: 900}, {0: 0.0}, now=200.0, stall_after_s=60)
    text = metrics.render("t", health)
    assert 'journey_consumer_lag{topic="t",partition="0"} 890' in text
    assert "journey_stalled_partitions 1" in text
    assert 'journey_seconds_since_progress{topic="t",partition="0"} 200' in text


def test_metric_values_are_written_in_full() -> None:
    metrics = WorkerMetrics()
    metrics.records[0] = 12_345_678
    metrics.flush_seconds = 0.125
    text = metrics.render("t")
    assert 'journey_records_total{topic="t",partition="0"} 12345678' in text
    assert "journey_flush_seconds_total 0.125" in text


def test_the_customers_stage_renders_families_of_its_own() -> None:
    metrics = WorkerMetrics()
    metrics.records[3] = 7
    text = metrics.render("t.customers", prefix="journey_customers")
    assert 'journey_customers_records_total{topic="t.customers",partition="3"} 7' in text
    assert "# TYPE journey_customers_flushes_total counter" in text
    assert "\njourney_records_total" not in text  # no family the ingest stage also writes


def test_offsets_the_log_start_passed_before_the_worker_resumed_are_lost() -> None:
    lost = lost_offsets(
        resume={0: 100, 1: 50, 2: 0, 3: 7},
        log_start={0: 100, 1: 80, 2: 5, 3: 3},
    )
    # 0: resumes at the log start; 3: the log start is behind what ClickHouse holds.
    assert lost == [LostOffsets(1, 50, 79), LostOffsets(2, 0, 4)]
    assert [x.count for x in lost] == [30, 5]
    assert lost_offsets({0: 0}, {}) == []  # a partition with no known start lost nothing


def test_losses_are_shown_until_acknowledged_per_topic_and_partition() -> None:
    rows = [
        ("t", 1, 50, 79, 30, 0, 0, "w:1", False),
        ("t", 1, 200, 209, 10, 0, 0, "w:1", False),
        ("t", 2, 0, 4, 5, 0, 0, "w:1", True),
        ("u", 1, 0, 0, 1, 0, 0, "w:2", False),
    ]
    assert pending(rows) == {("t", 1): 40, ("u", 1): 1}
    assert loss_reasons({1: 40, 2: 0}) == [
        "partition 1: 40 records deleted from the topic before any worker applied them "
        "(`journey losses` lists them)"
    ]


def test_metrics_show_the_unacknowledged_lost_offsets() -> None:
    metrics = WorkerMetrics()
    metrics.lost = {3: 12}
    text = metrics.render("t")
    assert "# TYPE journey_lost_offsets gauge" in text
    assert 'journey_lost_offsets{topic="t",partition="3"} 12' in text
