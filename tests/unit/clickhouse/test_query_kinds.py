"""The ``-- kinds:`` line of the named queries: what each figure counts, for its note."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from streams.clickhouse import queries
from streams.clickhouse.queries import parse_kinds
from streams.errors import JourneyError
from streams.events import KIND_FIELDS

PAGES = Path(__file__).resolve().parents[3] / "dashboard" / "pages"


def test_a_list_all_and_all_but() -> None:
    assert parse_kinds("ivr_call, notification_call", "q") == ("ivr_call", "notification_call")
    assert parse_kinds("notification_call,ivr_call", "q") == ("ivr_call", "notification_call")
    assert parse_kinds("all", "q") == tuple(KIND_FIELDS)
    but = parse_kinds("all but message_receipt", "q")
    assert "message_receipt" not in but and len(but) == len(KIND_FIELDS) - 1


@pytest.mark.parametrize("text", ["ivr_calls", "all but", "", "all but carrier_pigeon"])
def test_an_unknown_kind_is_an_error_naming_the_file(text: str) -> None:
    with pytest.raises(JourneyError, match=r"q\.sql: '-- kinds: .*' names"):
        parse_kinds(text, "q.sql")


def test_every_query_of_interaction_rollups_says_what_it_counts() -> None:
    for query in queries.load_all():
        reads = set(re.findall(r"FROM (\w+)", query.sql))
        if reads & {"interactions", *(t for t in reads if t.startswith("rollup_"))}:
            assert query.kinds, f"{query.name} reads {reads} but has no '-- kinds:' line"


def test_every_figure_a_page_draws_from_a_query_has_its_note() -> None:
    drawn = set()
    for page in PAGES.glob("*.py"):
        for node in ast.walk(ast.parse(page.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"chart", "comparison_cards", "tile_note"}
            ):
                drawn |= {
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                }
    known = {q.name: q for q in queries.load_all()}
    figures = {name for name in drawn if name in known}
    assert len(figures) >= 20, sorted(figures)
    assert not [name for name in figures if not known[name].kinds]
