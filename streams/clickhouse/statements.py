"""A SQL file as its statements: split on ``;`` outside quotes and comments (migrations, view
files and the generated access files all go through it)."""

from __future__ import annotations

import re
from collections.abc import Iterator


def split_statements(sql: str) -> list[str]:
    """Split a file into statements on ``;`` outside quotes and comments."""
    statements: list[str] = []
    current: list[str] = []
    for chunk in _tokens(sql):
        if chunk == ";":
            text = "".join(current).strip()
            if _has_code(text):
                statements.append(text)
            current = []
        else:
            current.append(chunk)
    tail = "".join(current).strip()
    if _has_code(tail):
        statements.append(tail)
    return statements


def _has_code(text: str) -> bool:
    without_comments = re.sub(r"--[^\n]*", "", text)
    return bool(without_comments.strip())


def _tokens(sql: str) -> Iterator[str]:
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            yield sql[i:end]
            i = end
        elif ch in ("'", '"', "`"):
            j = i + 1
            while j < n and sql[j] != ch:
                j += 2 if sql[j] == "\\" else 1
            yield sql[i : j + 1]
            i = j + 1
        else:
            yield ch
            i += 1
