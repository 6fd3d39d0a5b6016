"""What the rollups hold, in Python: fact rows netted by what the views count.

A correction is two rows (sign -1 where a count was, +1 where it belongs), so two runs that
decide the same thing may write different rows; what they must agree on is the net count per
cell. The cells here are finer than any view's (the exact event time, not its hour), so
agreeing here implies agreeing in every rollup. Lateness is left out: it is about arrival by
definition (docs/exactly-once.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

CELL = ("occurred_at", "tenant", "industry", "use_case")
KEYS: dict[str, tuple[str, ...]] = {
    "interaction": (
        *CELL, "event_id", "channel", "kind", "purpose", "status", "read_signal", "outcome",
        "duration_ms", "bucket_s", "handed_off",
    ),
    "journey": CELL,
    "read_pair": (
        *CELL, "channel", "purpose", "read_signal", "duration_ms", "bucket_s", "reply_enabled",
    ),
    "reply": (*CELL, "channel", "purpose", "duration_ms", "reply_enabled"),
    "conversation": (*CELL, "channel", "status", "duration_ms"),
}  # fmt: skip
# What a row adds to its cell (a row of another kind adds one: its sign).
MEASURES: dict[str, tuple[str, ...]] = {"journey": ("journeys", "journey_channels")}

Net = dict[tuple[Any, ...], tuple[int, ...]]


def net(rows: Iterable[dict[str, Any]]) -> Net:
    """The signed sums per cell of ``rows`` (fact rows as ``Facts.facts`` gives them), cells
    whose sums are all zero left out, as a summing table leaves them out once merged."""
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        fact = row["fact"]
        if fact not in KEYS:
            continue
        cell = sums[(fact, *(row[c] for c in KEYS[fact]))]
        sign = row["sign"]
        if fact in MEASURES:
            for i, measure in enumerate(MEASURES[fact]):
                cell[i] += sign * row[measure]
        else:
            cell[0] += sign
    return {key: tuple(values) for key, values in sums.items() if any(values)}
