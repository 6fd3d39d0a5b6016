"""No clear customer identifier reaches Kafka or ClickHouse through the project.

A full simulated run (calibrated traffic with late, duplicated, receipt-first and malformed
records) plus a careless producer that bypasses the publisher and sends clear customer ids,
through the real broker, the worker and ClickHouse. Then every topic the run wrote (events,
dead letters, the worker's changelogs) and every table of the database are read back whole
and searched for each clear id the simulator made and the careless producer sent: none may be
anywhere but in the careless producer's own records in the source topic. The search is shown to
work on the bytes that did carry them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.kafka.batch_sender import BatchSender
from streams.logic.ingest import Rejected, SourceRecord, decide
from streams.publish.pseudonymise import pseudonymiser
from streams.settings import Settings
from streams.simulate.generator import Simulator
from streams.simulate.run import publish_records
from tests.clear_ids import sample_careless
from tests.integration.pipeline import DISORDER, wait_applied

pytestmark = pytest.mark.integration

CARELESS_IDS = ["alice.martin@brand.example", "cust-careless-0042", "4915112345678"]


def careless_records(start: datetime) -> list[bytes]:
    """Events as a producer that skipped the publisher sends them: clear ids, whole or cut."""
    out = []
    for i, customer in enumerate(CARELESS_IDS):
        event = {
            "schema_version": 1,
            "event_id": f"careless-{i}",
            "kind": "touch",
            "occurred_at": (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tenant": "acme_bank",
            "industry": "financial_services",
            "use_case": "personalized_onboarding",
            "channel": "email",
            "journey_id": f"careless-journey-{i}",
            "customer_id": customer,
            "direction": "outbound",
        }
        text = json.dumps(event).encode()
        cut = text[: text.index(customer.encode()) + len(customer)]  # ends inside the string
        out += [text, cut]
    out.append(b'{"event_id": "careless-n", "customer_id": 4915112345678, "kind": "touch"}')
    return out


def everything_in_topics(settings: Settings, prefix: str) -> dict[str, bytes]:
    """Every record (key, value and headers) of every topic whose name starts with ``prefix``;
    a dead letter's kept bytes (base64 inside its JSON) decoded too."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka.bootstrap)
    topics = sorted(t for t in admin.list_topics() if t.startswith(prefix))
    admin.close()
    contents: dict[str, bytes] = {}
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap, enable_auto_commit=False)
    try:
        for topic in topics:
            tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            chunks: list[bytes] = []
            while any(consumer.position(tp) < ends[tp] for tp in tps):
                for messages in consumer.poll(timeout_ms=1000).values():
                    for m in messages:
                        chunks += [m.key or b"", m.value or b""]
                        chunks += [value for _, value in m.headers]
                        if topic == settings.topic_dead_letters:
                            chunks.append(base64.b64decode(json.loads(m.value)["original_b64"]))
            contents[topic] = b"\n".join(chunks)
    finally:
        consumer.close()
    return contents


def everything_in_tables(url: str) -> dict[str, bytes]:
    """Every row of every table and view of the database, as ClickHouse writes it out."""
    client = connect(url)
    names = client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine NOT IN ('Null', 'MaterializedView')"
    ).result_rows
    # Names come from system.tables and are quoted; no outside value reaches the statement.
    return {
        # TabSeparatedRaw: values as stored, no escaping that could hide an escaped id.
        str(name): client.raw_query(f"SELECT * FROM `{name}`", fmt="TabSeparatedRaw")  # noqa: S608
        for (name,) in names
    }


def test_no_clear_customer_id_reaches_kafka_or_clickhouse(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    clear_ids: set[str] = set()
    real = pseudonymiser(settings)

    def remembering(tenant: str, customer: str) -> str:
        clear_ids.add(customer)
        return real(tenant, customer)

    simulator = Simulator(seed=5, disorder=DISORDER, pseudonymise=remembering)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    records = list(simulator.backfill(3_000, start, datetime(2021, 7, 1, tzinfo=UTC)))
    sender = BatchSender(settings.kafka.bootstrap, settings.topic_interactions)
    try:
        publish_records(records, sender)
    finally:
        sender.close()
    careless = careless_records(start)
    # And clear ids in every JSON shape and key spelling hypothesis finds, whole, cut off,
    # badly encoded or followed by what is not JSON (tests/clear_ids.py).
    shaped = sample_careless(300, seed_value=3)
    careless += [record.value for record in shaped]
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap, acks="all")
    for value in careless:
        producer.send(
            settings.topic_interactions,
            key=b"careless",
            value=value,
            headers=[("source", b"careless producer")],
        )
    producer.flush()
    producer.close()
    assert len(clear_ids) > 300 and sum(r.label == "malformed" for r in records) > 10

    process = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    wait_applied(
        client,
        settings.topic_interactions,
        len(records) + len(careless),
        timeout=180,
        describe=lambda: process.log_path.read_text()[-2000:],
    )
    dead = int(str(client.command("SELECT count() FROM dead_letters")))
    # Some shaped records are valid events (a pseudonym under customer_id, the clear id under
    # another spelling beside it): their unknown fields are dropped, never stored.
    rejected = sum(
        isinstance(decide(SourceRecord("t", 0, 0, 1_900_000_000_000, value)), Rejected)
        for value in careless
    )
    assert dead == rejected + sum(r.label == "malformed" for r in records)

    wanted = sorted(
        {i.encode() for i in clear_ids | set(CARELESS_IDS)}
        | {needle for record in shaped for needle in record.needles},
        key=len,
        reverse=True,
    )
    search = re.compile(b"|".join(re.escape(i) for i in wanted))
    # The search finds the ids where they were: in what the careless producer sent.
    assert all(search.search(value) for value in careless[: len(careless) - len(shaped)])
    assert all(search.search(r.value) for r in shaped if r.whole)

    written = everything_in_topics(settings, settings.topic_prefix)
    written |= everything_in_topics(settings, settings.app_id)  # the worker's changelogs
    assert settings.topic_dead_letters in written and len(written) >= 3, sorted(written)
    written |= everything_in_tables(settings.clickhouse_url.get_secret_value())
    assert {"interactions", "dead_letters", "rollup_interactions_daily"} <= set(written)
    found = {
        where: {m.decode("utf-8", "replace") for m in search.findall(data)}
        for where, data in written.items()
    }
    # The careless producer wrote its own records to the source topic: only ACLs that let
    # nothing but the publisher write there prevent that (docs/privacy.md). Everything the
    # project itself wrote, and every id that went through the publisher, is clean.
    assert set(CARELESS_IDS) <= found.pop(settings.topic_interactions)
    assert not {where: sorted(ids) for where, ids in found.items() if ids}, "clear ids stored"
    # What is there instead: pseudonyms, and the careless ids' redaction marker.
    assert (
        b"ph:k1:" in written["interactions"] and b"ph:k1:" in written[settings.topic_interactions]
    )
    assert b"redacted:not-a-pseudonym" in written["dead_letters"]
