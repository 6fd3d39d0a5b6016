"""Hypothesis strategies for records that carry a clear customer id in any shape and spelling.

Shared by the unit property test of the redaction and the integration test that searches every
topic and table. Every clear id starts with a sentinel (``CLEAR`` for text, ``987654321`` for
numbers) so that a search for it cannot match anything else, and every record says exactly
how its ids were written (``needles``): raw, and as the JSON escapes it was encoded with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

TEXT_SENTINEL = "CLEAR"
NUMBER_SENTINEL = "987654321"
PSEUDONYM = "ph:k1:" + "ab" * 16
BASE: dict[str, Any] = {
    "event_id": "careless-1",
    "schema_version": 1,
    "kind": "touch",
    "occurred_at": "2021-01-01T00:00:00Z",
    "tenant": "acme",
    "industry": "retail",
    "use_case": "smart_notification",
    "channel": "web",
    "journey_id": "careless-journey",
    "direction": "inbound",
}


@dataclass(frozen=True)
class Careless:
    """A record as a careless producer wrote it, and every byte sequence that gives its ids
    away (a whole id, or its sentinel start, as written in the record)."""

    value: bytes
    needles: tuple[bytes, ...]
    whole: bool  # the record is complete JSON (neither cut nor followed by garbage)


def _escape_some(text: str, mask: list[bool]) -> str:
    """``text`` as the inside of a JSON string, with the masked characters as \\u escapes."""
    out = []
    for ch, escape in zip(text, mask, strict=False):
        if escape or ch in '"\\' or ord(ch) < 0x20:
            out.append("".join(f"\\u{unit:04x}" for unit in _utf16(ch)))
        else:
            out.append(ch)
    return "".join(out)


def _utf16(ch: str) -> list[int]:
    data = ch.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


@st.composite
def customer_keys(draw: st.DrawFn) -> str:
    """``customer_id`` as a JSON string token, however it may be written."""
    words = ["customer", "id"]
    separator = draw(st.sampled_from(["_", "", "-", " ", ".", "__", "\u200b_"]))
    text = separator.join(words)
    chars = []
    for ch in text:
        case = draw(st.sampled_from(["lower", "upper", "fullwidth"]))
        if case == "upper":
            ch = ch.upper()
        elif case == "fullwidth" and ch.isascii() and ch.isalpha():
            ch = chr(ord(ch) + 0xFEE0)  # NFKC folds it back to ASCII
        chars.append(ch)
    key = "".join(chars)
    mask = draw(st.lists(st.booleans(), min_size=len(key), max_size=len(key)))
    return '"' + _escape_some(key, mask) + '"'


@st.composite
def clear_values(draw: st.DrawFn) -> tuple[str, list[bytes]]:
    """A clear id in some JSON shape, as text, and the needles that find it."""
    shape = draw(st.sampled_from(["string", "number", "object", "array", "nested", "escaped"]))
    if shape == "number":
        digits = NUMBER_SENTINEL + str(draw(st.integers(min_value=0, max_value=10**12)))
        return digits, [digits.encode()]
    tail = draw(st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s))
    clear = TEXT_SENTINEL + tail
    mask = draw(st.lists(st.booleans(), min_size=len(clear), max_size=len(clear)))
    if shape != "escaped":
        mask = [False] * len(clear)
    token = '"' + _escape_some(clear, mask) + '"'
    needles = [
        clear.encode("utf-8"),
        token.encode("utf-8"),
        _escape_some(clear[:5], mask[:5]).encode("utf-8"),  # the sentinel, as written
    ]
    if shape == "object":
        token = '{"email": ' + token + ', "verified": true}'
    elif shape == "array":
        token = "[" + token + ', "second"]'
    elif shape == "nested":
        token = '{"ids": [{"crm": ' + token + "}]}"
    return token, needles


@st.composite
def careless_records(draw: st.DrawFn) -> Careless:
    """An event whose customer id (and maybe a second one, deeper) is clear, perhaps cut off
    or followed by bytes that are not JSON."""
    key = draw(customer_keys())
    value, needles = draw(clear_values())
    head = json.dumps(BASE | {"event_id": f"careless-{draw(st.integers(0, 10**9))}"})[:-1]
    parts = [head, f", {key}: {value}"]
    if draw(st.booleans()):  # a second clear id, deeper, under another spelling
        key2 = draw(customer_keys())
        value2, needles2 = draw(clear_values())
        parts.append(f', "profile": {{"x": [1, {{{key2}: {value2}}}]}}')
        needles += needles2
    if draw(st.booleans()):
        parts.append(f', "customer_id": "{PSEUDONYM}"')
    parts.append("}")
    data = "".join(parts).encode("utf-8")
    ending = draw(st.sampled_from(["whole", "cut", "garbage", "not_utf8"]))
    if ending == "cut":
        data = data[: draw(st.integers(min_value=1, max_value=len(data) - 1))]
    elif ending == "garbage":
        data += b" trailing words " + needles[0]  # a clear id where nothing is understood
    elif ending == "not_utf8":
        data = data[:-1] + b"\xff\xfe}"
    return Careless(data, tuple(needles), ending == "whole")


def sample_careless(count: int, seed_value: int = 0) -> list[Careless]:
    """``count`` careless records, the same for a seed (for tests that publish them)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    found: list[Careless] = []

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(careless_records())
    def collect(record: Careless) -> None:
        found.append(record)

    collect()
    return found[:count]
