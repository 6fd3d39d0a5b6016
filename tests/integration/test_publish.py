"""`journey publish` against the real broker: bad lines rejected with reasons, no valid lost."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from kafka import KafkaConsumer, TopicPartition

from streams.kafka.admin import ensure_topics, project_topics
from streams.publish.api import publish, publish_stream
from streams.publish.pseudonymise import pseudonymiser
from streams.publish.sender import Sender, open_sender
from streams.settings import Settings
from tests.support import run_journey, settings_env

pytestmark = pytest.mark.integration


def valid_event(tag: str, i: int) -> dict[str, object]:
    return {
        "event_id": f"{tag}-{i}",
        "schema_version": 1,
        "kind": "touch",
        "occurred_at": "2021-06-01T09:30:00.000Z",
        "tenant": "acme",
        "industry": "retail",
        "use_case": "smart_notification",
        "channel": "email",
        "journey_id": f"j-{i % 7}",
        "customer_id": f"clear-customer-{i}",
        "direction": "outbound",
    }


def garbage() -> st.SearchStrategy[bytes]:
    """Lines that must all be rejected: malformed, truncated, wrongly typed, oversized,
    wrongly encoded."""
    event = json.dumps(valid_event("g", 0)).encode()
    return st.one_of(
        st.binary(min_size=1, max_size=200).filter(
            lambda b: b"\n" not in b and b.strip() and not b.strip().startswith(b"{")
        ),
        st.integers(min_value=1, max_value=len(event) - 1).map(lambda n: event[:n]),
        # Wrong types or values for fields every event has ("~" keeps text invalid).
        st.sampled_from(["schema_version", "occurred_at", "channel", "tenant", "industry"]).flatmap(
            lambda f: st.one_of(
                st.integers(max_value=0),
                st.none(),
                st.text(max_size=10).map(lambda t: "~" + t),
                st.lists(st.integers(), max_size=2),
            ).map(lambda v, f=f: json.dumps({**valid_event("g", 1), f: v}).encode())
        ),
        st.just(b'{"pad": "' + b"x" * 20_000 + b'"}'),
        st.just(event.replace(b"acme", b"\xff\xfeacme")),
        st.just(json.dumps({**valid_event("g", 2), "schema_version": 9}).encode()),
        st.just(b"[1, 2, 3]"),
    )


def consume_new(settings: Settings, start: dict[int, int]) -> list[bytes]:
    """Everything published since ``start``: read up to the current end of each partition."""
    end = end_offsets(settings)
    if all(end[p] == start[p] for p in start):
        return []
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap,
        consumer_timeout_ms=10_000,
        enable_auto_commit=False,
    )
    parts = [TopicPartition(settings.topic_interactions, p) for p in start if end[p] > start[p]]
    consumer.assign(parts)
    for tp in parts:
        consumer.seek(tp, start[tp.partition])
    values: list[bytes] = []
    remaining = {tp.partition for tp in parts}
    for message in consumer:
        values.append(message.value)
        if message.offset >= end[message.partition] - 1:
            remaining.discard(message.partition)
        if not remaining:
            break
    consumer.close()
    return values


def end_offsets(settings: Settings) -> dict[int, int]:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka.bootstrap)
    parts = [
        TopicPartition(settings.topic_interactions, p) for p in range(settings.topic_partitions)
    ]
    offsets = {tp.partition: off for tp, off in consumer.end_offsets(parts).items()}
    consumer.close()
    return offsets


@pytest.fixture(scope="module")
def broker_settings(services: dict, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(
        kafka={"bootstrap": services["broker"].bootstrap},
        state_dir=tmp_path_factory.mktemp("publish"),
        topic_prefix=f"pub{uuid.uuid4().hex[:8]}",
        _env_file=None,
    )
    ensure_topics(settings.kafka.bootstrap, project_topics(settings))
    return settings


@pytest.fixture(scope="module")
def sender(broker_settings: Settings) -> Iterator[Sender]:
    sender = open_sender(broker_settings.kafka.bootstrap, broker_settings.topic_interactions)
    yield sender
    sender.close()


@hsettings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(st.one_of(st.just(None), garbage()), min_size=1, max_size=30))
def test_valid_lines_all_arrive_bad_lines_all_rejected(
    broker_settings: Settings, sender: Sender, plan: list[bytes | None]
) -> None:
    tag = uuid.uuid4().hex[:10]
    lines: list[bytes] = []
    valid_ids: set[str] = set()
    bad_lines: set[int] = set()
    for number, item in enumerate(plan, start=1):
        if item is None:
            lines.append(json.dumps(valid_event(tag, number)).encode())
            valid_ids.add(f"{tag}-{number}")
        else:
            lines.append(item)
            bad_lines.add(number)
    start = end_offsets(broker_settings)
    rejects = io.StringIO()
    report = publish_stream(
        io.BytesIO(b"\n".join(lines) + b"\n"),
        sender,
        pseudonymiser(broker_settings),
        rejects=rejects,
    )
    assert report.sent == len(valid_ids)
    assert {r.line for r in report.rejections} == bad_lines
    assert all(r.reason for r in report.rejections)
    assert len(rejects.getvalue().splitlines()) == len(bad_lines)
    arrived = [json.loads(v) for v in consume_new(broker_settings, start)]
    assert {e["event_id"] for e in arrived} == valid_ids
    assert not any("clear-customer" in json.dumps(e) for e in arrived)


def test_cli_publish_reports_lines_and_writes_rejects(
    broker_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "events.jsonl"
    good = [json.dumps(valid_event("cli", i)) for i in range(500)]
    source.write_text(
        "\n".join(
            [
                *good[:250],
                "{broken",
                *good[250:],
                json.dumps({**valid_event("cli", 999), "channel": "fax"}),
            ]
        )
        + "\n"
    )
    start = end_offsets(broker_settings)
    result = run_journey("publish", str(source), env=settings_env(broker_settings))
    assert result.returncode == 1, result.stderr
    assert "line 251: " in result.stderr and "not JSON" in result.stderr
    assert "line 502: channel: 'fax' is not one of" in result.stderr
    assert "502 read, 500 sent, 2 rejected, 0 failed" in result.stdout
    rejects = [
        json.loads(x) for x in (tmp_path / "events.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    assert [r["line"] for r in rejects] == [251, 502]
    assert len(consume_new(broker_settings, start)) == 500


def test_cli_publish_csv_from_stdin(broker_settings: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys

    header = (
        "event_id,schema_version,kind,occurred_at,tenant,industry,use_case,channel,"
        "journey_id,customer_id,direction,duration_s,outcome"
    )
    rows = [
        f"csv-{i},1,ivr_call,2021-02-01T10:00:00Z,acme,telecom,digital_customer_service,"
        f"phone,j{i},cust{i},inbound,{30 + i},self_served"
        for i in range(20)
    ]
    start = end_offsets(broker_settings)
    env = {**settings_env(broker_settings), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams",
            "publish",
            "-",
            "--format",
            "csv",
            "--rejects",
            str(tmp_path / "r.jsonl"),
        ],
        input="\n".join([header, *rows]) + "\n",
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "20 read, 20 sent, 0 rejected" in result.stdout
    arrived = [json.loads(v) for v in consume_new(broker_settings, start)]
    assert sorted(e["duration_s"] for e in arrived) == [float(30 + i) for i in range(20)]


def test_python_api_publish(broker_settings: Settings) -> None:
    start = end_offsets(broker_settings)
    events = [valid_event("api", i) for i in range(100)] + [{"kind": "touch"}]
    report = publish(events, broker_settings)
    assert (report.sent, report.rejected) == (100, 1)
    assert report.rejections[0].line == 101
    assert len(consume_new(broker_settings, start)) == 100


def test_unreachable_broker_is_one_line(tmp_path: Path) -> None:
    from tests.support import free_port

    source = tmp_path / "e.jsonl"
    source.write_text(json.dumps(valid_event("x", 1)) + "\n")
    result = run_journey(
        "publish",
        str(source),
        env={"KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", "JOURNEY_STATE_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("journey: error: cannot reach Kafka")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_value_too_big_to_decode_is_a_numbered_rejection_and_the_rest_is_sent(
    broker_settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "big.jsonl"
    lines = [json.dumps(valid_event("big", i)) for i in range(4)]
    lines[1] = lines[1].replace('"schema_version": 1', '"schema_version": ' + "7" * 5000)
    source.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")  # with a BOM
    start = end_offsets(broker_settings)
    result = run_journey("publish", str(source), env=settings_env(broker_settings))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "line 2: schema_version: is out of range" in result.stderr
    assert "4 read, 3 sent, 1 rejected" in result.stdout
    assert len(consume_new(broker_settings, start)) == 3  # line 1 kept despite its BOM


def test_a_csv_with_a_byte_order_mark_loses_no_row(
    broker_settings: Settings, tmp_path: Path
) -> None:
    header = "event_id,schema_version,kind,occurred_at,tenant,industry,use_case,channel,"
    header += "journey_id,customer_id,direction"
    rows = [
        f"bom-{i},1,touch,2021-02-01T10:00:00Z,acme,retail,smart_notification,web,j{i},c{i},inbound"
        for i in range(5)
    ]
    source = tmp_path / "excel.csv"
    source.write_bytes("\n".join([header, *rows]).encode("utf-8-sig") + b"\n")
    start = end_offsets(broker_settings)
    result = run_journey("publish", str(source), env=settings_env(broker_settings))
    assert result.returncode == 0, result.stderr
    assert "5 read, 5 sent, 0 rejected" in result.stdout
    assert len(consume_new(broker_settings, start)) == 5


def test_the_publisher_never_replaces_a_file_it_did_not_create(
    broker_settings: Settings, tmp_path: Path
) -> None:
    import stat

    source = tmp_path / "events.jsonl"
    good = [json.dumps(valid_event("rj", i)) for i in range(3)]
    source.write_text("\n".join([*good, "{broken"]) + "\n")
    env = settings_env(broker_settings)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me\n")
    start = end_offsets(broker_settings)
    # An existing file named as --rejects is refused before anything is sent.
    refused = run_journey("publish", str(source), "--rejects", str(precious), env=env)
    assert refused.returncode == 1
    assert "already exists" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert precious.read_text() == "keep me\n"
    assert consume_new(broker_settings, start) == []
    # A clean publish creates no rejects file (and removes none).
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join(good) + "\n")
    rejects = tmp_path / "none.jsonl"
    assert run_journey("publish", str(clean), "--rejects", str(rejects), env=env).returncode == 0
    assert not rejects.exists()
    # A device is written to as it is: /dev/null stays the device.
    for path in (clean, source):
        run_journey("publish", str(path), "--rejects", "/dev/null", env=env)
        assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)
    # Rejects go to the named path only when there are rejects.
    named = tmp_path / "named.jsonl"
    result = run_journey("publish", str(source), "--rejects", str(named), env=env)
    assert result.returncode == 1 and [
        json.loads(x)["line"] for x in named.read_text().splitlines()
    ] == [4]
