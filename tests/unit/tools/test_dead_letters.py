"""`journey dead-letters replay`: a fixed file's lines decided by the publisher's validation,
each wrong line refused with its number and what is wrong, the others kept."""

from __future__ import annotations

import json
from typing import Any

from streams.publish.pseudonymise import Pseudonymiser
from streams.tools.dead_letters import Origin, ReplayReport, read_fixed

LETTER = {"topic": "journey.interactions.v1", "partition": 2, "offset": 41, "code": "x"}
EVENT = {
    "event_id": "e1", "schema_version": 1, "kind": "touch",
    "occurred_at": "2021-05-01T10:00:00.000Z", "tenant": "acme", "industry": "retail",
    "use_case": "personalized_retention", "channel": "web", "journey_id": "j1",
    "customer_id": "alice@example.com", "direction": "inbound",
}  # fmt: skip


def line(letter: dict[str, Any] | None = LETTER, record: Any = EVENT) -> str:
    return json.dumps({"dead_letter": letter, "record": record})


def test_each_wrong_line_is_refused_with_its_number_and_the_good_ones_go_on() -> None:
    lines = [
        line(),
        "",  # blank lines are skipped, not counted
        "{not json",
        line(letter=None),
        line(letter={"topic": "t"}),
        line(letter=LETTER | {"offset": 42}, record=None),
        line(letter=LETTER | {"offset": 43}, record=EVENT | {"channel": "fax"}),
        line(),  # the same dead letter twice
        line(letter=LETTER | {"offset": 44}, record=EVENT | {"event_id": "e2"}),
    ]
    report = ReplayReport()
    fixed = list(read_fixed(lines, Pseudonymiser(b"key"), report))
    assert [(f.line, f.origin.offset, f.event_id) for f in fixed] == [(1, 41, "e1"), (9, 44, "e2")]
    assert fixed[0].origin == Origin("journey.interactions.v1", 2, 41)
    assert b"alice" not in fixed[0].value and fixed[0].key == b"j1"  # pseudonymised
    assert report.lines == 8
    refused = "\n".join(report.refused)
    assert "line 3: not JSON" in refused
    assert 'line 4: no "dead_letter" object' in refused
    assert 'line 5: "dead_letter" needs its topic, partition and offset' in refused
    assert 'line 6: journey.interactions.v1:2:42: "record" is not a JSON object' in refused
    assert "line 7: journey.interactions.v1:2:43: still invalid (field channel)" in refused
    assert "line 8: dead letter journey.interactions.v1:2:41 is in the file twice" in refused
    assert len(report.refused) == 6
