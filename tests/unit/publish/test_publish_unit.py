"""Reading and preparing input lines for `journey publish` (no broker needed)."""

from __future__ import annotations

import io
import json

import pytest

from streams.events import ContractError
from streams.publish.api import decide, encode, not_after_now
from streams.publish.pseudonymise import Pseudonymiser, is_pseudonym
from streams.publish.readers import read_csv, read_jsonl

PSEUDO = Pseudonymiser(b"secret", "k1")


def event(**extra: object) -> dict[str, object]:
    return {
        "event_id": "e-1",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": "2021-06-01T09:30:00Z",
        "tenant": "acme",
        "industry": "retail",
        "use_case": "smart_notification",
        "channel": "email",
        "journey_id": "j-1",
        "customer_id": "alice-42",
        "direction": "outbound",
        **extra,
    }


def test_decide_pseudonymises_and_drops_extra_fields() -> None:
    line = json.dumps(event(email="alice@example.com")).encode()
    key, value = encode(*decide(line, PSEUDO, not_after_now()))
    assert key == b"j-1"
    published = json.loads(value)
    assert is_pseudonym(published["customer_id"])
    assert "alice" not in value.decode()
    assert "email" not in published


def test_the_published_form_is_canonical_whatever_the_input_spelled() -> None:
    # Already canonical (milliseconds, an integer version): sent as decoded. Otherwise the
    # time gains its milliseconds and 1.0 becomes 1.
    for given, time_text in [
        (event(occurred_at="2021-06-01T09:30:00.250Z"), "2021-06-01T09:30:00.250Z"),
        (event(schema_version=1.0, occurred_at="2021-06-01T09:30:00.250Z"),
         "2021-06-01T09:30:00.250Z"),
        (event(), "2021-06-01T09:30:00.000Z"),
    ]:  # fmt: skip
        _key, value = encode(*decide(json.dumps(given).encode(), PSEUDO, not_after_now()))
        assert b'"schema_version":1,' in value and b'"schema_version":1.0' not in value
        assert json.loads(value)["occurred_at"] == time_text


def test_extra_fields_are_still_checked_for_utf8_and_nesting() -> None:
    # Lines with only the contract's fields take a faster path; the others must still be
    # refused for what an unread field holds.
    base = json.dumps(event()).encode()[:-1]
    broken = base + b', "note": "caf\xe9"}'
    with pytest.raises(ContractError, match="UTF-8"):
        decide(broken, PSEUDO, not_after_now())
    deep = base + b', "note": ' + b"[" * 70 + b"]" * 70 + b"}"
    with pytest.raises(ContractError, match="nested"):
        decide(deep, PSEUDO, not_after_now())
    plain = encode(*decide(base + b"}", PSEUDO, not_after_now()))
    extra = encode(*decide(base + b', "note": [[1]]}', PSEUDO, not_after_now()))
    assert plain == extra and is_pseudonym(json.loads(plain[1])["customer_id"])


def test_pseudonyms_are_keyed_tenant_scoped_and_stable() -> None:
    a = PSEUDO("acme", "alice-42")
    assert a == PSEUDO("acme", "alice-42")
    assert a != PSEUDO("other", "alice-42")
    assert a != Pseudonymiser(b"another key", "k1")("acme", "alice-42")
    assert PSEUDO("acme", a) == a  # already pseudonymised: passes through


def test_read_jsonl_numbers_lines_and_rejects_oversized_without_keeping_them() -> None:
    stream = io.BytesIO(b'{"a":1}\n\n' + b"x" * 40_000 + b'\n{"b":2}\r\n')
    lines = list(read_jsonl(stream))
    assert lines[0] == (1, b'{"a":1}')
    assert lines[1] == (2, b"")
    assert isinstance(lines[2][1], ContractError) and lines[2][0] == 3
    assert "40,000 bytes" in str(lines[2][1])
    assert lines[3] == (4, b'{"b":2}')


def test_a_line_that_is_not_json_says_why() -> None:
    with pytest.raises(ContractError, match="not UTF-8"):
        decide(b"\xff\xfe", PSEUDO, not_after_now())
    with pytest.raises(ContractError, match="not JSON"):
        decide(b"{nope", PSEUDO, not_after_now())


def test_a_mapping_and_its_json_line_publish_the_same_bytes() -> None:
    from_mapping = encode(*decide(event(), PSEUDO, not_after_now()))
    from_line = encode(*decide(json.dumps(event()).encode(), PSEUDO, not_after_now()))
    assert from_mapping == from_line
    assert json.loads(from_line[1])["occurred_at"] == "2021-06-01T09:30:00.000Z"


def test_read_csv_coerces_types_and_reports_bad_cells() -> None:
    text = (
        "event_id,schema_version,kind,occurred_at,tenant,industry,use_case,channel,"
        "journey_id,customer_id,direction,duration_s,outcome\n"
        "e1,1,ivr_call,2021-01-01T00:00:00Z,acme,telecom,digital_customer_service,phone,"
        "j1,c1,inbound,35.5,self_served\n"
        "e2,one,touch,2021-01-01T00:00:00Z,acme,telecom,smart_notification,web,j2,c2,"
        "outbound,,\n"
    )
    rows = list(read_csv(io.BytesIO(text.encode())))
    assert rows[0][0] == 2
    good = rows[0][1]
    assert isinstance(good, dict)
    assert good["schema_version"] == 1 and good["duration_s"] == 35.5
    assert decide(good, PSEUDO, not_after_now())[0].outcome == "self_served"
    assert isinstance(rows[1][1], ContractError)
    assert rows[1][1].field == "schema_version"
