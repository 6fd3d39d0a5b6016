"""`journey verify --offsets`: the ranges it takes, and what it says it could not check."""

from __future__ import annotations

import pytest

from streams.errors import JourneyError
from streams.tools.verify_offsets import OffsetRange, RangeReport, parse_range


def test_bad_ranges_are_refused_with_the_form_expected() -> None:
    assert parse_range("3:10-20") == OffsetRange(3, 10, 20)
    with pytest.raises(JourneyError, match=r"expected PARTITION:FIRST-LAST, e.g. 3:1000-1999"):
        parse_range("3:10")
    with pytest.raises(JourneyError, match="the last offset is before the first"):
        parse_range("3:20-10")


def test_the_report_says_what_it_could_not_check() -> None:
    report = RangeReport(OffsetRange(2, 0, 99), OffsetRange(2, 40, 89), expired=40, unapplied=10)
    report.records = report.accepted = 50
    lines = list(report.lines())
    assert lines[0].startswith("partition 2:40-89: exact: 50 records")
    assert "not checked: 40 offsets before the topic's log start" in lines[1]
    assert "not checked: 10 offsets not applied by the worker yet" in lines[2]
    report.differ("missing", "2:41: no raw row for event ('j', 'e')")
    assert not report.exact and "NOT exact" in next(report.lines())
    assert "missing: 2:41: no raw row" in list(report.lines())[-1]
