"""Where every Kafka client of the project connects and how it authenticates: TLS, SASL
(PLAIN, SCRAM), or neither.

One value, the ``KAFKA_*`` settings (``KAFKA_BOOTSTRAP``, ``KAFKA_SECURITY_PROTOCOL``,
``KAFKA_SASL_*``, ``KAFKA_SSL_*``), turned into the options of each client library the project
uses: kafka-python (admin, publisher, verify), aiokafka (the batch sender) and Faust (the
worker, its changelogs and dead letters). Passwords are secrets: its text form never shows them.
"""

from __future__ import annotations

import ssl
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from streams.errors import JourneyError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
MASK = "********"
DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


class KafkaSecurityError(JourneyError):
    """The Kafka security settings do not fit together; the message says which to set."""


class KafkaSettings(BaseModel):
    """Where every Kafka client connects and how it authenticates: the ``KAFKA_*`` settings,
    declared once (``Settings.kafka`` reads them from the environment by these names, each
    field ``x`` from ``KAFKA_X``)."""

    model_config = ConfigDict(frozen=True)

    bootstrap: str = Field(
        DEFAULT_BOOTSTRAP, description="host:port of the brokers, comma-separated"
    )
    security_protocol: str = Field("PLAINTEXT", description=f"one of {', '.join(PROTOCOLS)}")
    sasl_mechanism: str = Field("", description=f"with SASL: one of {', '.join(MECHANISMS)}")
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: str = Field("", description="with TLS: the CA bundle (else the system store)")
    ssl_certfile: str = Field("", description="with TLS: a client certificate (mutual TLS)")
    ssl_keyfile: str = ""
    ssl_key_password: SecretStr = SecretStr("")
    ssl_check_hostname: bool = True

    @field_validator("bootstrap")
    @classmethod
    def _bootstrap_has_ports(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"KAFKA_BOOTSTRAP entry {server!r} is not host:port")
        return value

    @field_validator("security_protocol", "sasl_mechanism")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _fits(self) -> KafkaSettings:
        """The settings fit together; else a KafkaSecurityError saying which to set."""
        protocol = self.security_protocol
        if protocol not in PROTOCOLS:
            raise KafkaSecurityError(
                f"KAFKA_SECURITY_PROTOCOL {protocol!r} is not one of {', '.join(PROTOCOLS)}"
            )
        if self.sasl:
            if self.sasl_mechanism not in MECHANISMS:
                raise KafkaSecurityError(
                    f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_MECHANISM, one of "
                    f"{', '.join(MECHANISMS)} (got {self.sasl_mechanism or 'nothing'!r})"
                )
            missing = [
                name
                for name, value in (
                    ("KAFKA_SASL_USERNAME", self.sasl_username),
                    ("KAFKA_SASL_PASSWORD", self.password),
                )
                if not value
            ]
            if missing:
                raise KafkaSecurityError(
                    f"KAFKA_SECURITY_PROTOCOL={protocol} needs {' and '.join(missing)}"
                )
        elif self.sasl_mechanism or self.sasl_username or self.password:
            raise KafkaSecurityError(
                f"KAFKA_SASL_* settings are set but KAFKA_SECURITY_PROTOCOL={protocol} "
                "does not use SASL: set it to SASL_SSL (or SASL_PLAINTEXT on a trusted network)"
            )
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise KafkaSecurityError(
                "KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (a client certificate "
                "and its key)"
            )
        if not self.tls and (self.ssl_cafile or self.ssl_certfile):
            raise KafkaSecurityError(
                f"KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL={protocol} does "
                "not use TLS: set it to SSL or SASL_SSL"
            )
        return self

    @property
    def password(self) -> str:
        """The SASL password, in clear (for the client libraries only)."""
        return self.sasl_password.get_secret_value()

    @property
    def host_port(self) -> tuple[str, int]:
        """Host and port of the first bootstrap server (the one a local broker listens on)."""
        host, _, port = self.bootstrap.split(",")[0].strip().rpartition(":")
        return host, int(port)

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (server verified against ``cafile`` or the system store)."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile or None)
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile:
            key_password = self.ssl_key_password.get_secret_value() or None
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile, key_password)
        return context

    def client_options(self) -> dict[str, Any]:
        """Options for kafka-python's clients and aiokafka's (both take these names)."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.sasl:
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.password,
            )
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def faust_credentials(self) -> Any:
        """``broker_credentials`` for the Faust app (None: plaintext)."""
        import faust

        if self.sasl:
            return faust.SASLCredentials(
                username=self.sasl_username,
                password=self.password,
                mechanism=self.sasl_mechanism,
                ssl_context=self.ssl_context(),
            )
        if self.tls:
            return faust.SSLCredentials(self.ssl_context())
        return None

    def __repr__(self) -> str:  # never a password, whatever prints this object
        shown = ", ".join(f"{k}={v!r}" for k, v in self.model_dump().items())
        return f"KafkaSettings({shown})"


PLAINTEXT = KafkaSettings()
