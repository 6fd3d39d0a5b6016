"""The shipped JSON Schema and the contract page are generated, and must be current."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema

from streams.decoder import validate
from streams.events import SCHEMA_PATH, json_schema
from streams.publish.pseudonymise import Pseudonymiser
from streams.simulate.generator import Disorder, Simulator, malformed, to_contract
from streams.tools.contract_docs import markdown, schema_text
from streams.vocabulary import KINDS

DOCS = Path(__file__).resolve().parents[3] / "docs" / "event-contract.md"
REGENERATE = "run `python -m streams.tools.contract_docs` to regenerate"


def test_schema_file_is_current() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), REGENERATE


def test_docs_page_is_current() -> None:
    assert DOCS.read_text() == markdown(), REGENERATE


def test_json_schema_agrees_with_the_validator_on_simulated_events() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator(schema)
    sim = Simulator(
        seed=11, pseudonymise=Pseudonymiser(b"k"), disorder=Disorder(malformed_fraction=0.2)
    )
    records = sim.backfill(3000, datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 3, 1, tzinfo=UTC))
    kinds = set()
    for record in records:
        if record.event is None:
            continue
        event = to_contract(record.event)
        assert not list(checker.iter_errors(event)), event
        validate(event)
        kinds.add(event["kind"])
    assert kinds == set(KINDS)  # every kind, 1.1's message_received too


def test_json_schema_rejects_what_the_validator_rejects() -> None:
    import random

    checker = jsonschema.Draft202012Validator(json_schema())
    sim = Simulator(seed=12, pseudonymise=Pseudonymiser(b"k"))
    events = [
        r.event
        for r in sim.backfill(
            300, datetime(2021, 1, 1, tzinfo=UTC), datetime(2021, 1, 5, tzinfo=UTC)
        )
        if r.event
    ]
    rng = random.Random(5)
    checked = 0
    for event in events:
        raw = malformed(rng, event)
        try:
            obj = json.loads(raw)
        except ValueError:
            continue  # not JSON at all: nothing for a schema to say
        assert list(checker.iter_errors(obj)), obj
        checked += 1
    assert checked > 100
