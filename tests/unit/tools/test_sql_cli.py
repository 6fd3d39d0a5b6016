"""``journey sql`` renders any result the server sends, in every format."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from ipaddress import IPv4Address

import pytest

from streams.tools.sql import FORMATS, render


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_wider_than_their_column_names_still_render(fmt: str) -> None:
    # KILL QUERY answers with four values a row under other column names.
    text = render(["query_id"], [["waiting", "q1", "default", "SELECT 1"]], fmt)
    assert "q1" in text and "SELECT 1" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_values_json_has_no_type_for_are_text(fmt: str) -> None:
    row = [uuid.UUID(int=1), IPv4Address("1.2.3.4"), (1, "a"), {"k": [1]}, datetime(2021, 1, 1)]
    text = render(["u", "ip", "t", "m", "d"], [row], fmt)
    assert "00000000-0000-0000-0000-000000000001" in text and "1.2.3.4" in text
    if fmt == "json":
        assert json.loads(text)["ip"] == "1.2.3.4"


def test_no_rows_is_a_header_and_a_count() -> None:
    assert render(["a"], [], "table").endswith("(0 rows)\n")
