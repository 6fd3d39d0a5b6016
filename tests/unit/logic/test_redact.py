"""Redaction of rejected records: no clear customer id survives, whatever its shape or spelling,
and everything else that is JSON is kept as it came."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.logic.redact import REDACTED, is_customer_key, lexed, redact, unchanged, withheld
from streams.publish.pseudonymise import is_pseudonym
from tests.clear_ids import PSEUDONYM, Careless, careless_records


def _pairs(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"), object_pairs_hook=lambda pairs: pairs)


def _expected(node: Any) -> Any:
    """The input's structure with every customer-id value as the redaction leaves it."""
    if isinstance(node, list) and all(isinstance(p, tuple) for p in node) and node:
        out = []
        for key, value in node:
            folded = unicodedata.normalize("NFKC", key).casefold()
            if "".join(c for c in folded if c.isalnum()) == "customerid":
                keep = isinstance(value, str) and is_pseudonym(value)
                out.append((key, value if keep else "redacted:not-a-pseudonym"))
            else:
                out.append((key, _expected(value)))
        return out
    if isinstance(node, list):
        return [_expected(v) for v in node]
    return node


@settings(max_examples=600, deadline=None)
@given(careless_records())
def test_no_clear_customer_id_survives_in_any_shape_or_spelling(record: Careless) -> None:
    kept = redact(record.value)
    for needle in record.needles:
        assert needle not in kept, (record.value, kept)
    if record.whole:  # nothing but the customer ids changed
        assert _pairs(kept) == _expected(_pairs(record.value))


def test_every_spelling_of_the_key_is_recognised() -> None:
    for key in [
        '"customer_id"',
        '"CUSTOMER_ID"',
        '"customerId"',
        '"Customer-Id"',
        '"customer id"',
        '"customer\\u005fid"',
        '"\\uff43ustomer_id"',  # fullwidth c
        '"customer\\u200b_id"',  # a zero-width space inside
        '"cust\\qomer_id"',  # cannot be decoded: treated as the customer id
    ]:
        assert is_customer_key(key.encode()), key
    for key in ['"customer"', '"customer_ids_seen"', '"id"', '"journey_id"']:
        assert not is_customer_key(key.encode()), key


def test_pseudonyms_stay_and_what_is_not_json_is_withheld() -> None:
    good = json.dumps({"customer_id": PSEUDONYM, "channel": "pigeon"}).encode()
    assert redact(good) == good
    assert redact(b"not json at all") == withheld(15)
    assert redact(b'{"a": 1} then words') == b'{"a": 1} ' + withheld(10)
    assert redact(b'{"customer_id": "al') == b'{"customer_id": ' + REDACTED  # cut inside the id
    assert redact(b'{"customer_id": {"e": "x"') == b'{"customer_id": ' + REDACTED
    assert redact(b'{"customer_id": 4915, "k": [true, null]}') == (
        b'{"customer_id": ' + REDACTED + b', "k": [true, null]}'
    )


_KEYS = st.sampled_from(["customer_id", "customerId", "CUSTOMER-ID", "\uff43ustomer_id", "k", ""])
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.just(PSEUDONYM),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_JSON, st.booleans(), st.booleans())
def test_the_fast_path_gives_what_the_lexer_gives_for_json(
    document: Any, ascii_only: bool, spaced: bool
) -> None:
    data = json.dumps(document, ensure_ascii=ascii_only, indent=2 if spaced else None).encode()
    assert redact(data) == lexed(data)
    assert unchanged(data) == (lexed(data) == data)


@settings(max_examples=300, deadline=None)
@given(careless_records())
def test_the_fast_path_gives_what_the_lexer_gives_for_careless_records(record: Careless) -> None:
    assert redact(record.value) == lexed(record.value)


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=64)
    | st.text(alphabet='{}[]":, \\ab01-eEnulltrue', max_size=40).map(str.encode)
)
def test_the_fast_path_gives_what_the_lexer_gives_for_any_bytes(data: bytes) -> None:
    assert redact(data) == lexed(data)
