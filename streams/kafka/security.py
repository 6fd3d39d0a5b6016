"""How every Kafka client of the project authenticates: TLS, SASL (PLAIN, SCRAM), or neither.

One value, built from the settings (``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*``,
``KAFKA_SSL_*``), turned into the options of each client library the project uses: kafka-python
(admin, publisher, verify), aiokafka (the batch sender) and Faust (the worker, its changelogs
and dead letters). Its text form masks the password, so settings can be printed and logged.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from streams.errors import JourneyError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
MASK = "********"


class KafkaSecurityError(JourneyError):
    """The Kafka security settings do not fit together; the message says which to set."""


@dataclass(frozen=True)
class KafkaSecurity:
    """The security settings of a Kafka connection."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    username: str = ""
    password: str = ""
    cafile: str = ""
    certfile: str = ""
    keyfile: str = ""
    key_password: str = ""
    check_hostname: bool = True

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise KafkaSecurityError(
                f"KAFKA_SECURITY_PROTOCOL {self.protocol!r} is not one of {', '.join(PROTOCOLS)}"
            )
        if self.sasl:
            if self.sasl_mechanism not in MECHANISMS:
                raise KafkaSecurityError(
                    f"KAFKA_SECURITY_PROTOCOL={self.protocol} needs KAFKA_SASL_MECHANISM, one of "
                    f"{', '.join(MECHANISMS)} (got {self.sasl_mechanism or 'nothing'!r})"
                )
            missing = [
                name
                for name, value in (
                    ("KAFKA_SASL_USERNAME", self.username),
                    ("KAFKA_SASL_PASSWORD", self.password),
                )
                if not value
            ]
            if missing:
                raise KafkaSecurityError(
                    f"KAFKA_SECURITY_PROTOCOL={self.protocol} needs {' and '.join(missing)}"
                )
        elif self.sasl_mechanism or self.username or self.password:
            raise KafkaSecurityError(
                f"KAFKA_SASL_* settings are set but KAFKA_SECURITY_PROTOCOL={self.protocol} "
                "does not use SASL: set it to SASL_SSL (or SASL_PLAINTEXT on a trusted network)"
            )
        if bool(self.certfile) != bool(self.keyfile):
            raise KafkaSecurityError(
                "KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (a client certificate "
                "and its key)"
            )
        if not self.tls and (self.cafile or self.certfile):
            raise KafkaSecurityError(
                f"KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL={self.protocol} does "
                "not use TLS: set it to SSL or SASL_SSL"
            )

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol.endswith("SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (server verified against ``cafile`` or the system store)."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.cafile or None)
        context.check_hostname = self.check_hostname
        if self.certfile:
            context.load_cert_chain(self.certfile, self.keyfile, self.key_password or None)
        return context

    def client_options(self) -> dict[str, Any]:
        """Options for kafka-python's clients and aiokafka's (both take these names)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.username,
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
                username=self.username,
                password=self.password,
                mechanism=self.sasl_mechanism,
                ssl_context=self.ssl_context(),
            )
        if self.tls:
            return faust.SSLCredentials(self.ssl_context())
        return None

    def describe(self) -> dict[str, str]:
        """The settings as text, the passwords masked."""
        shown = {"KAFKA_SECURITY_PROTOCOL": self.protocol}
        if self.sasl:
            shown.update(
                KAFKA_SASL_MECHANISM=self.sasl_mechanism,
                KAFKA_SASL_USERNAME=self.username,
                KAFKA_SASL_PASSWORD=MASK,
            )
        if self.tls:
            shown.update(
                KAFKA_SSL_CAFILE=self.cafile or "(system store)",
                KAFKA_SSL_CERTFILE=self.certfile or "(none)",
                KAFKA_SSL_KEYFILE=self.keyfile or "(none)",
                KAFKA_SSL_KEY_PASSWORD=MASK if self.key_password else "(none)",
                KAFKA_SSL_CHECK_HOSTNAME=str(self.check_hostname).lower(),
            )
        return shown

    def __repr__(self) -> str:  # never the password, whatever prints this object
        return f"KafkaSecurity({self.describe()})"


PLAINTEXT = KafkaSecurity()
