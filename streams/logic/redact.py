"""Redaction of a rejected record's bytes: no clear customer id is kept, whatever its shape.

A rejected record is kept for investigation (dead-letter topic and table), but a producer that
bypassed the publisher may have put a customer's id in it in clear. The bytes are read with a
tolerant JSON lexer, not a parser: it works on bytes that are cut off, badly encoded or broken,
and keeps only what it has understood.

- Every value under a key that *is* ``customer_id``, however it is written (any case, ``-``,
  ``_``, spaces or nothing between the words, JSON escapes, Unicode compatibility forms), at
  any depth, is replaced by ``REDACTED`` unless it is a complete string that is a pseudonym.
  An object, an array, a number or a literal there is replaced whole.
- A key the lexer cannot decode is treated as if it were ``customer_id``.
- From the first byte that is not JSON (outside a string), nothing more is kept: the rest is
  replaced by ``<withheld: N bytes>``, because nothing can be known about what it holds.
  Text that is not JSON at all is therefore not kept at all.

Most rejected records are whole JSON documents whose customer ids, if any, are pseudonyms: the
lexer would give them back unchanged. They are recognised first by a parse in C
(:func:`unchanged`), which costs a fifth of the lexer; anything it is not sure of goes through
the lexer.

Other personal data in unknown fields of a rejected record is not recognised (docs/privacy.md).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata

from streams.publish.pseudonymise import is_pseudonym

REDACTED = b'"redacted:not-a-pseudonym"'
CUSTOMER_KEY = "customerid"
_WHITESPACE = frozenset(b" \t\r\n")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NUMBER = re.compile(rb"-?[0-9][0-9.eE+-]*")
_LITERAL = re.compile(rb"true|false|null|NaN|-?Infinity")


def withheld(count: int) -> bytes:
    """What stands for ``count`` bytes that were not kept."""
    return b"<withheld: %d bytes>" % count


# Remembered: rejected records repeat the same few keys, and judging one (a JSON decode and a
# Unicode fold) cost more than the rest of the redaction. Bounded, so hostile keys cannot grow
# it.
@functools.lru_cache(maxsize=4096)
def is_customer_key(raw: bytes) -> bool:
    """Whether a JSON string token (quotes included) names the customer id; True when it
    cannot be decoded, since then nothing says it does not."""
    try:
        key = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return True
    return names_customer(key)


@functools.lru_cache(maxsize=4096)
def names_customer(key: str) -> bool:
    """Whether a decoded key names the customer id, however it is written."""
    folded = unicodedata.normalize("NFKC", key).casefold()
    return "".join(ch for ch in folded if ch.isalnum()) == CUSTOMER_KEY


def _check_pairs(pairs: list[tuple[str, object]]) -> None:
    for key, value in pairs:
        if names_customer(key) and not (isinstance(value, str) and is_pseudonym(value)):
            raise _Changes


class _Changes(Exception):
    """Redaction would change the document."""


def unchanged(data: bytes) -> bool:
    """Whether :func:`redact` keeps ``data`` exactly as it is: one JSON document, in UTF-8,
    whose every customer-id value, at any depth, is a pseudonym. False whenever in doubt."""
    try:
        json.loads(data.decode("utf-8"), object_pairs_hook=_check_pairs)
    except (_Changes, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return True


def _keeps_pseudonym(raw: bytes) -> bool:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(value, str) and is_pseudonym(value)


def _value_end(data: bytes, start: int) -> int:
    """Where the JSON value starting at ``start`` ends (``len(data)`` if it is cut off or
    cannot be delimited): strings and nesting are followed, nothing is decoded."""
    first = data[start]
    if first == 0x22:  # a string
        match = _STRING.match(data, start)
        return match.end() if match else len(data)
    if first not in b"[{":
        match = _NUMBER.match(data, start) or _LITERAL.match(data, start)
        return match.end() if match else len(data)
    depth, i, n = 0, start, len(data)
    while i < n:
        byte = data[i]
        if byte == 0x22:
            match = _STRING.match(data, i)
            if match is None:
                return n
            i = match.end()
            continue
        if byte in b"[{":
            depth += 1
        elif byte in b"]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def redact(data: bytes) -> bytes:
    """``data`` with every non-pseudonym customer id replaced and every part that is not JSON
    withheld (see the module docstring)."""
    return data if unchanged(data) else lexed(data)


def lexed(data: bytes) -> bytes:
    """:func:`redact` by the tolerant lexer alone, whatever ``data`` is."""
    out = bytearray()
    stack: list[int] = []  # open containers: ord("{") or ord("[")
    # What may come next: a value, a key (or "}" right after "{"), a key only (after ","),
    # the ":" after a key, a value or "]" (right after "["), or what follows a value.
    state = "value"
    customer = False  # the value about to come is under a customer-id key
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte in _WHITESPACE:
            out.append(byte)
            i += 1
            continue
        start = i
        if state in ("key", "key_only"):
            if byte == 0x7D and state == "key":
                stack.pop()
                state, i = "after", i + 1
            else:
                match = _STRING.match(data, i) if byte == 0x22 else None
                if match is None:
                    break
                customer = is_customer_key(match.group())
                state, i = "colon", match.end()
        elif state == "colon":
            if byte != 0x3A:
                break
            state, i = "value", i + 1
        elif state == "after":
            if not stack:
                state = "value"  # another document follows the first
                continue
            if byte == 0x2C:
                state = "key_only" if stack[-1] == 0x7B else "value"
            elif byte == stack[-1] + 2:  # "{" + 2 is "}", "[" + 2 is "]"
                stack.pop()
            else:
                break
            i += 1
        elif state == "value_or_close" and byte == 0x5D:
            stack.pop()
            state, i = "after", i + 1
        elif customer:
            end = _value_end(data, i)
            value = data[i:end]
            out += value if _keeps_pseudonym(value) else REDACTED
            customer, state, i = False, "after", end
            continue
        elif byte in b"{[":
            stack.append(byte)
            state, i = ("key" if byte == 0x7B else "value_or_close"), i + 1
        else:
            match = (
                _STRING.match(data, i)
                if byte == 0x22
                else _NUMBER.match(data, i) or _LITERAL.match(data, i)
            )
            if match is None:
                break
            state, i = "after", match.end()
        out += data[start:i]
    if i < n:
        out += withheld(n - i)
    return bytes(out)
