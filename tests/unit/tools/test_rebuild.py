"""`journey rebuild`: its window is whole days, and the facts it writes are the window's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from streams.logic.facts import Facts
from streams.tools.rebuild import RebuildError, whole_days


def test_the_window_is_whole_days_and_both_bounds_or_neither() -> None:
    client: Any = None  # not reached: both bounds given
    start, end = datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 4, 1, tzinfo=UTC)
    assert whole_days(start, end, client) == (start, end)
    with pytest.raises(RebuildError, match="--from 2021-03-01 06:00: give a day"):
        whole_days(start.replace(hour=6), end, client)
    with pytest.raises(RebuildError, match="--from and --to go together"):
        whole_days(start, None, client)
    with pytest.raises(RebuildError, match="is not after --from"):
        whole_days(end, start, client)


def test_facts_within_keep_the_window_s_rows_of_every_block() -> None:
    facts = Facts()
    facts.add("interaction", 3, {"occurred_at": [5, 10, 20], "tenant": ["a", "b", "c"]})
    facts.add("journey", 2, {"occurred_at": [10, 15], "journeys": [1, 1]})
    facts.add("progress", 1, {"events": [7]})  # no event time: never part of a window
    kept = facts.within("occurred_at", 10, 20)
    assert kept.rows == 3
    assert [r["tenant"] for r in kept.facts("interaction")] == ["b"]
    assert [r["occurred_at"] for r in kept.facts("journey")] == [10, 15]
    assert kept.facts("progress") == []
    assert facts.rows == 6  # the original is untouched
