"""Reading what engineers publish: JSON Lines and CSV, numbered lines, oversized lines and
malformed rows rejected one by one without stopping the rest."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, Any

from streams.events import COMMON_FIELDS, KIND_SPECIFIC_FIELDS, MAX_EVENT_BYTES, ContractError

FIELD_TYPES = {spec.name: spec.type for spec in (*COMMON_FIELDS, *KIND_SPECIFIC_FIELDS)}


BOM = b"\xef\xbb\xbf"


def read_jsonl(stream: IO[bytes]) -> Iterator[tuple[int, bytes | ContractError]]:
    """Numbered lines of a JSON Lines stream; an oversized line is rejected without being kept.
    A UTF-8 byte order mark at the start (editors on Windows write one) is not part of line 1."""
    number = 0
    while True:
        line = stream.readline(MAX_EVENT_BYTES + 2)
        if not line:
            return
        number += 1
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        if not line.endswith(b"\n") and len(line) > MAX_EVENT_BYTES:
            size = len(line)
            while True:  # skip the rest of the oversized line, in bounded chunks
                rest = stream.readline(1 << 20)
                size += len(rest.rstrip(b"\r\n"))
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, ContractError(f"line is {size:,} bytes, more than {MAX_EVENT_BYTES:,}")
            continue
        yield number, line.rstrip(b"\r\n")


def _coerce(name: str, text: str) -> Any:
    kind = FIELD_TYPES.get(name)
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        raise ContractError(f"{text[:40]!r} is not a {kind}", name) from None
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ContractError(f"{text[:40]!r} is not true or false", name)
    return text


def read_csv(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | ContractError]]:
    """Rows of a CSV with a header naming contract fields; empty cells are absent fields."""
    # utf-8-sig: a byte order mark (Excel's "CSV UTF-8") would otherwise stick to the first
    # header and lose every row's first field.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    for row in reader:
        number = reader.line_num
        if None in row:
            yield number, ContractError("row has more cells than the header")
            continue
        try:
            values: dict[str, Any] = {}
            for name, cell in row.items():
                if cell is None or cell == "":
                    continue
                if any("\udc80" <= ch <= "\udcff" for ch in cell):
                    raise ContractError("cell is not UTF-8", name)
                values[name] = _coerce(name, cell)
        except ContractError as exc:
            yield number, exc
            continue
        yield number, values
