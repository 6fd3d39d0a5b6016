"""Whether a worker is making progress: pure, so /ready, /metrics and tests agree.

A worker can be alive (its web pages answer) and still apply nothing: an agent that crashed
and came back without its batch, a ClickHouse that refuses every insert, a recovery that never
ends. What an operator needs to know is simple: a partition it owns has records waiting
(lag > 0, measured from what ClickHouse holds to the partition's end) and nothing of that
partition reached ClickHouse for longer than the stall threshold (``JOURNEY_STALL_AFTER_S``,
60 s by default: many times the one-second batch and the time a rebalance takes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartitionHealth:
    """One owned partition: records waiting, and seconds since its last progress."""

    partition: int
    lag: int
    idle_s: float
    stalled: bool


def partition_health(
    applied: Mapping[int, int],
    highwaters: Mapping[int, int | None],
    last_progress: Mapping[int, float],
    now: float,
    stall_after_s: float,
) -> list[PartitionHealth]:
    """Per owned partition (the keys of ``highwaters``): ``applied`` is the next offset
    ClickHouse does not hold yet, ``last_progress`` when the partition last advanced (or was
    assigned). A partition whose end is unknown has no lag to speak of."""
    out = []
    for partition in sorted(highwaters):
        high = highwaters[partition]
        lag = max(0, int(high) - applied.get(partition, 0)) if high is not None else 0
        idle = max(0.0, now - last_progress.get(partition, now))
        out.append(PartitionHealth(partition, lag, idle, lag > 0 and idle > stall_after_s))
    return out


def stall_reasons(health: list[PartitionHealth], stall_after_s: float) -> list[str]:
    """One line per stalled partition, for /ready and ``journey status``."""
    return [
        f"partition {h.partition}: {h.lag:,} records waiting and no progress for "
        f"{h.idle_s:.0f}s (more than {stall_after_s:g}s)"
        for h in health
        if h.stalled
    ]


@dataclass(frozen=True, slots=True)
class LostOffsets:
    """Offsets ``first`` to ``last`` of a partition: records the topic no longer holds (its
    retention, or delete-records, removed them) that no worker applied."""

    partition: int
    first: int
    last: int

    @property
    def count(self) -> int:
        """How many records were lost."""
        return self.last - self.first + 1


def lost_offsets(resume: Mapping[int, int], log_start: Mapping[int, int]) -> list[LostOffsets]:
    """Per partition (the keys of ``resume``): the offsets between where the worker resumes
    (the next offset ClickHouse does not hold) and the partition's log start, when the log
    start is past it. Seeking to the log start skips them without a gap the gap guard could
    see: they were never fetched."""
    return [
        LostOffsets(p, resume[p], log_start[p] - 1)
        for p in sorted(resume)
        if log_start.get(p, 0) > resume[p]
    ]


def loss_reasons(losses: Mapping[int, int]) -> list[str]:
    """One line per partition with unacknowledged lost records, for ``journey status``."""
    return [
        f"partition {p}: {n:,} records deleted from the topic before any worker applied them "
        "(`journey losses` lists them)"
        for p, n in sorted(losses.items())
        if n
    ]
