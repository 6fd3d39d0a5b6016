"""Contract 1.1 end to end: events using what it adds go through the real broker and worker
into the raw table, beside 1.0 events, and break nothing downstream."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kafka import KafkaProducer

from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.settings import Settings
from tests.integration.pipeline import assert_exact, wait_applied
from tests.unit.test_contract_1_1 import NEW_EVENTS, event

pytestmark = pytest.mark.integration


def test_events_of_1_1_reach_the_raw_table_with_their_new_fields(
    pipeline_settings: Settings, worker_factory: Callable[..., ManagedProcess]
) -> None:
    settings = pipeline_settings
    documents = [doc | {"event_id": f"new-{i}"} for i, doc in enumerate(NEW_EVENTS.values())]
    documents.append(event("touch", "email", "outbound") | {"event_id": "old-1"})  # a 1.0 event
    # A 1.1 rule broken: a dead letter with its reason, the others applied.
    documents.append(event("touch", "email", "outbound", conversation_id="c-1"))
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap)
    for doc in documents:
        producer.send(settings.topic_interactions, key=b"j-1", value=json.dumps(doc).encode())
    producer.flush()
    producer.close()
    worker = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    wait_applied(client, settings.topic_interactions, len(documents), 120, worker.log_tail)
    assert_exact(settings, client)
    rows = {
        row[0]: row[1:]
        for row in client.query(
            "SELECT event_id, kind, reply_enabled, in_reply_to, conversation_id, contact_reason,"
            " error_code, agent_requested, exit_reason, handoff_requested, resolved, duration_s"
            " FROM interactions"
        ).result_rows
    }
    assert len(rows) == len(NEW_EVENTS) + 1
    assert rows["new-0"][:2] == ("message_sent", True)  # reply-enabled send
    assert rows["new-1"][:5] == ("message_received", False, "m-1", "", "billing")
    assert rows["new-2"][3] == "thr-4" and rows["new-3"][3] == "thr-4"  # a thread, both sides
    assert rows["new-4"][5] == "30003"  # failed, with the provider's code
    assert rows["new-6"][6:8] == (True, "hung_up")  # a trapped caller
    assert rows["new-7"][8:] == (False, True, 95.5)  # a contained chat
    assert rows["old-1"][1:] == (False, "", "", "", "", False, "", False, False, 0.0)
    (reason,) = client.query("SELECT reason FROM dead_letters").result_rows[0]
    assert "carries no conversation_id" in reason
