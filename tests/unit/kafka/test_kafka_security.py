"""Kafka security settings: they must fit together, map onto each client, and never print."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streams.kafka.security import MASK, KafkaSecurityError, KafkaSettings
from streams.settings import Settings


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    security = Settings().kafka
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert security.faust_credentials() is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"security_protocol": "SASL"}, "not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
        ({"security_protocol": "SASL_SSL"}, "needs KAFKA_SASL_MECHANISM"),
        (
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI"},
            "needs KAFKA_SASL_MECHANISM",
        ),
        (
            {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u"},
            "KAFKA_SASL_PASSWORD",
        ),
        ({"security_protocol": "PLAINTEXT", "sasl_username": "u"}, "does not use SASL"),
        (
            {
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_username": "u",
                "sasl_password": "p",
                "ssl_cafile": "ca.pem",
            },
            "does not use TLS",
        ),
        ({"security_protocol": "SSL", "ssl_certfile": "c.pem"}, "go together"),
    ],
)
def test_settings_that_do_not_fit_say_what_to_set(values: dict[str, str], message: str) -> None:
    with pytest.raises(KafkaSecurityError, match=message):
        KafkaSettings.model_validate(values)


def test_the_environment_builds_it_and_the_password_never_prints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "scram-sha-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "journey-worker")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "hunter2-very-secret")
    settings = Settings()
    security = settings.kafka
    assert security.security_protocol == "SASL_SSL" and security.sasl_mechanism == "SCRAM-SHA-512"
    options = security.client_options()
    assert options["sasl_plain_password"] == "hunter2-very-secret"
    assert options["ssl_context"].verify_mode.name == "CERT_REQUIRED"
    credentials = security.faust_credentials()
    assert (
        credentials.mechanism.value == "SCRAM-SHA-512" and credentials.protocol.value == "SASL_SSL"
    )
    for text in (str(settings.describe()), repr(security), str(security), repr(settings)):
        assert "hunter2-very-secret" not in text
    assert settings.describe()["KAFKA_SASL_PASSWORD"] == MASK


def test_a_clash_in_the_environment_stops_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "u")
    with pytest.raises((KafkaSecurityError, ValidationError), match="does not use SASL"):
        Settings()
