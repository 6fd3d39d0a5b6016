"""Kafka SASL on a real broker: a listener that authenticates with PLAIN and SCRAM, and every
client of the project (admin, publisher, worker, verify) going through it with the settings,
the password never printed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import NewTopic

from deploy.local.kafka_broker import KafkaBroker
from deploy.local.processes import ManagedProcess
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.errors import ServiceUnreachable
from streams.kafka.admin import ensure_topics, project_topics, require_broker
from streams.kafka.batch_sender import BatchSender
from streams.kafka.security import KafkaSettings
from streams.settings import Settings
from streams.tools.verify import read_partitions
from tests.conftest import CACHE_DIR
from tests.integration.pipeline import wait_applied
from tests.support import free_port, run_journey, settings_env

pytestmark = pytest.mark.integration

USER, PASSWORD = "journey-worker", "s3cret-sasl-pw-4711"


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    broker = KafkaBroker(
        tmp_path_factory.mktemp("sasl"),
        CACHE_DIR,
        port=free_port(),
        controller_port=free_port(),
        sasl_users=((USER, PASSWORD),),
        sasl_port=free_port(),
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def sasl(mechanism: str, password: str = PASSWORD) -> KafkaSettings:
    return KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=mechanism,
        sasl_username=USER,
        sasl_password=password,
    )


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_each_mechanism_authenticates_and_a_wrong_password_is_refused(
    sasl_broker: KafkaBroker, mechanism: str
) -> None:
    require_broker(sasl_broker.sasl_bootstrap, security=sasl(mechanism))
    with pytest.raises(ServiceUnreachable) as refused:
        require_broker(sasl_broker.sasl_bootstrap, 2.0, sasl(mechanism, "wrong"))
    assert "wrong" not in str(refused.value)


def test_a_client_without_credentials_is_refused(sasl_broker: KafkaBroker) -> None:
    with pytest.raises(ServiceUnreachable):
        require_broker(sasl_broker.sasl_bootstrap, 2.0)


def test_publisher_worker_and_verify_run_exactly_over_scram(
    sasl_broker: KafkaBroker,
    settings_factory: Callable[..., Settings],
    worker_factory: Callable[..., ManagedProcess],
) -> None:
    security: dict[str, Any] = {
        "bootstrap": sasl_broker.sasl_bootstrap,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": USER,
        "sasl_password": PASSWORD,
    }
    settings = settings_factory(kafka=security)
    migrate(settings.clickhouse_url.get_secret_value())
    ensure_topics(settings.kafka.bootstrap, project_topics(settings), security=settings.kafka)
    env = settings_env(settings)

    shown = run_journey("config", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "KAFKA_SASL_PASSWORD=********" in shown.stdout and PASSWORD not in shown.stdout

    published = run_journey(
        "simulate",
        "backfill",
        "--events",
        "1500",
        "--from",
        "2021-01-01",
        "--to",
        "2021-03-01",
        env=env,
    )
    assert published.returncode == 0, published.stderr
    process = worker_factory(settings)
    client = connect(settings.clickhouse_url.get_secret_value())
    total = sum(
        len(p)
        for p in read_partitions(
            settings.kafka.bootstrap, settings.topic_interactions, settings.kafka
        )
    )
    assert total >= 1500
    wait_applied(
        client,
        settings.topic_interactions,
        total,
        120,
        lambda: process.log_path.read_text()[-2000:],
    )
    verified = run_journey("verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    log = process.log_path.read_text()
    assert PASSWORD not in log and PASSWORD not in published.stdout + published.stderr


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (openssl): the PEM the broker serves and the CA clients trust."""
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    pem = directory / f"{name}.pem"
    pem.write_text(key.read_text() + cert.read_text())
    return pem, cert


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KafkaBroker, Path]]:
    state = tmp_path_factory.mktemp("tls")
    pem, ca = self_signed(state, "broker")
    broker = KafkaBroker(
        state,
        CACHE_DIR,
        port=free_port(),
        controller_port=free_port(),
        sasl_users=((USER, PASSWORD),),
        sasl_port=free_port(),
        tls_pem=pem,
    )
    broker.start()
    try:
        yield broker, ca
    finally:
        broker.stop()


def test_sasl_over_tls_verifies_the_broker_certificate(
    tls_broker: tuple[KafkaBroker, Path], tmp_path: Path
) -> None:
    broker, ca = tls_broker
    secure = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username=USER,
        sasl_password=PASSWORD,
        ssl_cafile=str(ca),
    )
    require_broker(broker.sasl_bootstrap, security=secure)  # kafka-python
    ensure_topics(broker.sasl_bootstrap, [NewTopic("tls-check", 1, 1)], security=secure)
    sender = BatchSender(broker.sasl_bootstrap, "tls-check", security=secure)  # aiokafka
    sender.send(b"k", b"over tls", line=1)
    sender.flush()
    sender.close()
    assert not sender.failures
    (records,) = read_partitions(broker.sasl_bootstrap, "tls-check", secure)
    assert [r.value for r in records] == [b"over tls"]
    # A client that trusts another authority refuses the broker.
    _, other = self_signed(tmp_path, "other")
    stranger = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username=USER,
        sasl_password=PASSWORD,
        ssl_cafile=str(other),
    )
    with pytest.raises(ServiceUnreachable):
        require_broker(broker.sasl_bootstrap, 5.0, stranger)
