"""The decoder's fast checks are its patterns: each proved against the regex it stands for."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.decoder import _time_ms, decode_batch, is_id, is_pseudonym, is_slug
from streams.events import (
    ID_PATTERN,
    PSEUDONYM_PATTERN,
    SLUG_PATTERN,
    TIME_PATTERN,
    python_pattern,
    utc_ms,
)

ID = re.compile(python_pattern(ID_PATTERN))
TIME = re.compile(python_pattern(TIME_PATTERN))

# Characters near every boundary the patterns draw: controls, space, the printable edges,
# DEL, Latin-1, full-width digits, newlines.
EDGY = st.one_of(
    st.sampled_from("\x00\t\n\r \x21\x7e\x7f\x80\xe9\uff21\uff11-_:.TZtz+0123456789abcdef"),
    st.characters(codec="utf-8"),
)


@settings(max_examples=1500)
@given(value=st.text(EDGY, min_size=1, max_size=128))
def test_is_id_is_the_id_pattern(value: str) -> None:
    assert is_id(value) == (ID.match(value) is not None)


@settings(max_examples=600)
@given(value=st.one_of(st.text(EDGY, max_size=70), st.from_regex(SLUG_PATTERN)))
def test_is_slug_is_the_slug_pattern(value: str) -> None:
    expected = re.match(python_pattern(SLUG_PATTERN), value) is not None
    assert is_slug(value) == expected
    assert is_slug(value) == expected  # and again, from the cache


@settings(max_examples=600)
@given(value=st.one_of(st.text(EDGY, max_size=45), st.from_regex(PSEUDONYM_PATTERN)))
def test_is_pseudonym_is_the_pseudonym_pattern(value: str) -> None:
    assert is_pseudonym(value) == (re.match(python_pattern(PSEUDONYM_PATTERN), value) is not None)


def _times() -> st.SearchStrategy[str]:
    """Canonical times, times like them with one character changed, and arbitrary text."""
    canonical = st.datetimes(datetime(1990, 1, 1), datetime(2120, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
    )

    @st.composite
    def damaged(draw: st.DrawFn) -> str:
        text = list(draw(canonical))
        at = draw(st.integers(0, len(text) - 1))
        text[at] = draw(EDGY)
        return "".join(text)

    return st.one_of(canonical, damaged(), st.from_regex(TIME_PATTERN), st.text(EDGY, max_size=30))


@settings(max_examples=1500)
@given(text=_times())
def test_the_fast_time_reading_is_the_time_pattern(text: str) -> None:
    try:
        expected: int | None = utc_ms(text) if TIME.match(text) else None
    except ValueError:  # the pattern matched a day its month lacks
        expected = None
    try:
        found: int | None = _time_ms(text)
    except ValueError:
        found = None
    assert found == expected, text


def test_a_time_reads_as_its_utc_millisecond() -> None:
    at = datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC)
    assert _time_ms("2024-02-29T23:59:59.999Z") == round(at.timestamp() * 1000)
    assert _time_ms("2024-03-01T01:59:59.999+02:00") == round(at.timestamp() * 1000)
    assert _time_ms("2024-02-29T23:59:59.9999999Z") == round(at.timestamp() * 1000)  # cut


def test_a_batch_keeps_every_record_in_its_place() -> None:
    good = (
        b'{"kind":"touch","event_id":"e","schema_version":1,"occurred_at":"2021-01-01T00:00:'
        b'00.000Z","tenant":"a","industry":"retail","use_case":"smart_notification","channel"'
        b':"web","journey_id":"j","customer_id":"ph:k1:' + b"ab" * 16 + b'","direction":"inbound"}'
    )
    decoded = decode_batch([good, b"{", good, b"[]"], [10**13] * 4, start=1)
    assert decoded.indexes == [2]
    assert [i for i, _ in decoded.rejected] == [1, 3]
    assert decoded.rejected[0][1].reason.startswith("is not JSON")
