"""`journey dead-letters list|export|replay`: rejected records exported, fixed and replayed
through the publisher with their provenance, each counted once however often it is replayed
(issue 18), on a real broker, ClickHouse and worker."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.settings import Settings
from streams.tools.dead_letters import REPLAY_OF
from tests.integration.pipeline import assert_exact, wait_applied
from tests.support import run_journey, settings_env

pytestmark = pytest.mark.integration

CUSTOMER = "ph:k1:" + "cd" * 16


def event(i: int) -> dict[str, Any]:
    return {
        "event_id": f"ok-{i}",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": f"2021-05-{1 + i % 28:02d}T10:00:00.000Z",
        "tenant": "acme",
        "industry": "retail",
        "use_case": "personalized_retention",
        "channel": ("web", "email")[i % 2],
        "journey_id": f"j-{i % 20}",
        "customer_id": CUSTOMER,
        "direction": "inbound",
    }


def broken() -> list[bytes]:
    """Five records a producer that bypassed the publisher might send, each fixable."""
    fax = event(1001) | {"event_id": "bad-1", "channel": "fax"}
    when = event(1002) | {"event_id": "bad-2", "occurred_at": "yesterday"}
    nameless = event(1003) | {"event_id": "bad-3"}
    del nameless["journey_id"]
    clear = event(1004) | {"event_id": "bad-4", "customer_id": "alice@example.com"}
    return [json.dumps(e).encode() for e in (fax, when, nameless, clear)] + [b"not json at all"]


def counts(listing: str) -> tuple[int, int, int]:
    """(dead letters, replayed, to repair) summed over the codes `dead-letters list` prints."""
    found = re.findall(r"(\d+) dead letters, (\d+) replayed, (\d+) to repair", listing)
    a, b, c = (sum(int(row[i]) for row in found) for i in range(3))
    return a, b, c


def fix(line: dict[str, Any], leave_fax: bool) -> dict[str, Any]:
    """What an engineer does to each exported line: mend the record, keep the dead letter."""
    line = copy.deepcopy(line)
    record = line["record"]
    if record is None:  # the record was not JSON: written anew
        line["record"] = event(1005) | {"event_id": "bad-5"}
        return line
    ids = record["event_id"]
    if ids == "bad-1" and not leave_fax:
        record["channel"] = "web"
    elif ids == "bad-2":
        record["occurred_at"] = "2021-05-02T10:00:00.000Z"
    elif ids == "bad-3":
        record["journey_id"] = "j-3"
    elif ids == "bad-4":  # the clear id was redacted: put it back (the replay pseudonymises it)
        assert record["customer_id"].startswith("redacted")
        record["customer_id"] = "alice@example.com"
    return line


def test_rejected_records_exported_fixed_and_replayed_twice_count_once(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess], tmp_path: Path
) -> None:
    settings = pipeline_settings
    topic = settings.topic_interactions
    env = settings_env(settings)
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    for i in range(100):
        producer.send(topic, key=f"j-{i % 20}".encode(), value=json.dumps(event(i)).encode())
    for value in broken():
        producer.send(topic, key=b"j-0", value=value)
    producer.flush()
    producer.close()
    worker = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    wait_applied(client, topic, 105, 120, worker.log_tail)
    assert int(client.command("SELECT count() FROM dead_letters")) == 5

    listed = run_journey("dead-letters", "list", env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert counts(listed.stdout) == (5, 0, 5), listed.stdout

    exported = tmp_path / "dead.jsonl"
    out = run_journey("dead-letters", "export", "--out", str(exported), env=env)
    assert out.returncode == 0 and "5 dead letters exported" in out.stderr, out.stderr
    lines = [json.loads(text) for text in exported.read_text().splitlines()]
    assert len(lines) == 5 and all(ln["dead_letter"]["topic"] == topic for ln in lines)
    assert sum(ln["record"] is None for ln in lines) == 1  # "not json at all"
    refused = run_journey("dead-letters", "export", "--out", str(exported), env=env)
    assert refused.returncode != 0 and "already exists" in refused.stderr

    # Four fixed, the fax left as it was: it is refused with its line, the others go on.
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text("".join(json.dumps(fix(ln, leave_fax=True)) + "\n" for ln in lines))
    first = run_journey("dead-letters", "replay", str(fixed), env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "5 lines: 4 replayed, 0 already replayed before (skipped), 1 refused" in first.stdout
    assert "still invalid (field channel)" in first.stdout
    # The same file again: nothing replayed twice.
    again = run_journey("dead-letters", "replay", str(fixed), env=env)
    assert "5 lines: 0 replayed, 4 already replayed before (skipped), 1 refused" in again.stdout
    # The fax mended too: only it goes.
    fixed.write_text("".join(json.dumps(fix(ln, leave_fax=False)) + "\n" for ln in lines))
    last = run_journey("dead-letters", "replay", str(fixed), env=env)
    assert last.returncode == 0, last.stdout + last.stderr
    assert "5 lines: 1 replayed, 4 already replayed before (skipped), 0 refused" in last.stdout

    wait_applied(client, topic, 110, 120, worker.log_tail)
    assert int(client.command("SELECT count() FROM interactions")) == 105
    after = run_journey("dead-letters", "list", env=env)
    assert counts(after.stdout) == (5, 5, 0), after.stdout
    # Provenance: each replayed record names its dead letter, in ClickHouse and on the record.
    rows = client.query(
        "SELECT r.kafka_partition, r.kafka_offset, i.event_id, i.customer_id "
        "FROM dead_letter_replays AS r JOIN interactions AS i "
        "ON i.kafka_partition = r.replay_partition AND i.kafka_offset = r.replay_offset"
    ).result_rows
    assert sorted(str(r[2]) for r in rows) == [f"bad-{n}" for n in range(1, 6)]
    alice = next(str(r[3]) for r in rows if r[2] == "bad-4")
    assert alice.startswith("ph:") and "alice" not in alice  # pseudonymised by the replay
    origins = {f"{topic}:{int(p)}:{int(o)}" for p, o, *_ in rows}
    reader = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap, consumer_timeout_ms=3000)
    parts = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or ()]
    reader.assign(parts)
    reader.seek_to_beginning(*parts)
    provenance = {
        dict(m.headers)[REPLAY_OF].decode() for m in reader if REPLAY_OF in dict(m.headers or [])
    }
    reader.close()
    assert provenance == origins

    # Were the record of a replay lost (a replay stopped after publishing), the next replay
    # publishes every fixed event again: the worker counts each event once all the same.
    client.command("TRUNCATE TABLE dead_letter_replays")
    repeat = run_journey("dead-letters", "replay", str(fixed), env=env)
    assert "5 lines: 5 replayed" in repeat.stdout, repeat.stdout
    wait_applied(client, topic, 115, 120, worker.log_tail)
    assert int(client.command("SELECT count() FROM interactions")) == 105
    assert_exact(settings, client)
    nothing = run_journey("dead-letters", "export", env=env)
    assert nothing.stdout == "" and "0 dead letters exported" in nothing.stderr
    everything = run_journey("dead-letters", "export", "--replayed-too", env=env)
    assert len(everything.stdout.splitlines()) == 5
