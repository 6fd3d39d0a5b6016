"""A worker that is alive but applies nothing says so: the stall rule, and how it is shown."""

from __future__ import annotations

from streams.logic.health import partition_health, stall_reasons
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
