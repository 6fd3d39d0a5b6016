"""Histogram buckets for durations and latencies: fixed, so every flush adds to the same bins.

A bucket is named by its lower bound in seconds. Bins are narrow where the questions are
(IVR calls of tens of seconds, reads within three minutes) and wider in the long tail; the
dashboard interpolates p50/p90 inside a bin, so a quantile is off by at most a bin's width.
"""

from __future__ import annotations

# (upper limit in seconds, bin width in seconds), in order; beyond the last limit, one bin.
CALL_BINS: tuple[tuple[int, int], ...] = ((300, 5), (1800, 60), (7200, 600))
LATENCY_BINS: tuple[tuple[int, int], ...] = ((180, 15), (600, 60), (3600, 600), (86_400, 3600))


def _bucket(ms: int, bins: tuple[tuple[int, int], ...]) -> int:
    seconds = max(ms, 0) // 1000
    for limit, width in bins:
        if seconds < limit:
            return seconds // width * width
    return bins[-1][0]


def call_bucket(duration_ms: int) -> int:
    """Lower bound (s) of the duration bin of a call lasting ``duration_ms``."""
    return _bucket(duration_ms, CALL_BINS)


def latency_bucket(latency_ms: int) -> int:
    """Lower bound (s) of the read-latency bin for ``latency_ms``."""
    return _bucket(latency_ms, LATENCY_BINS)


def bucket_edges(bins: tuple[tuple[int, int], ...]) -> list[int]:
    """Every lower bound, in order (the last one is open-ended)."""
    edges: list[int] = []
    start = 0
    for limit, width in bins:
        edges.extend(range(start, limit, width))
        start = limit
    edges.append(bins[-1][0])
    return edges
