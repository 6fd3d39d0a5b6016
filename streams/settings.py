"""One typed settings object, built once at the entry point and passed down.

Every external system is one URL (``KAFKA_BOOTSTRAP``, ``CLICKHOUSE_URL``) with a local
default, so the same code runs against the embedded defaults and a real cluster. The local
launchers derive their ports from those same URLs, so there is one place to change a port.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.clickhouse.url import ClickHouseUrl, mask_url
from streams.kafka.security import MASK, KafkaSettings

DEFAULT_CLICKHOUSE_URL = "http://127.0.0.1:8123/journey"


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "journey-telemetry"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "journey-telemetry"


class Settings(BaseSettings):
    """Configuration of every deployable, read from the environment (and ``.env``)."""

    # A nested model's fields come from ``<FIELD>_<SUBFIELD>`` (split once: ``KAFKA_SASL_USERNAME``
    # is ``kafka.sasl_username``), so the Kafka settings keep their public KAFKA_* names.
    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
        env_nested_delimiter="_",
        env_nested_max_split=1,
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    clickhouse_url: SecretStr = Field(
        SecretStr(DEFAULT_CLICKHOUSE_URL),
        validation_alias=AliasChoices("CLICKHOUSE_URL", "clickhouse_url"),
    )
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        validation_alias=AliasChoices("JOURNEY_STATE_DIR", "state_dir"),
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        validation_alias=AliasChoices("JOURNEY_CACHE_DIR", "cache_dir"),
    )
    kafka_controller_port: int = Field(
        9093,
        validation_alias=AliasChoices("JOURNEY_KAFKA_CONTROLLER_PORT", "kafka_controller_port"),
    )
    dashboard_port: int = Field(
        8501, validation_alias=AliasChoices("JOURNEY_DASHBOARD_PORT", "dashboard_port")
    )
    topic_partitions: int = Field(
        6, ge=1, validation_alias=AliasChoices("JOURNEY_TOPIC_PARTITIONS", "topic_partitions")
    )
    topic_prefix: str = Field(
        "journey", validation_alias=AliasChoices("JOURNEY_TOPIC_PREFIX", "topic_prefix")
    )
    app_id: str = Field(
        "journey-telemetry-worker", validation_alias=AliasChoices("JOURNEY_APP_ID", "app_id")
    )
    worker_web_port: int = Field(
        6066, validation_alias=AliasChoices("JOURNEY_WORKER_WEB_PORT", "worker_web_port")
    )
    pseudonym_key: SecretStr = Field(
        SecretStr("local-development-key-change-me"),
        validation_alias=AliasChoices("JOURNEY_PSEUDONYM_KEY", "pseudonym_key"),
    )
    pseudonym_key_id: str = Field(
        "k1", validation_alias=AliasChoices("JOURNEY_PSEUDONYM_KEY_ID", "pseudonym_key_id")
    )

    # `journey access apply` and `users-xml`: each service account's ClickHouse password.
    worker_clickhouse_password: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices(
            "JOURNEY_WORKER_CLICKHOUSE_PASSWORD", "worker_clickhouse_password"
        ),
    )
    dashboard_clickhouse_password: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices(
            "JOURNEY_DASHBOARD_CLICKHOUSE_PASSWORD", "dashboard_clickhouse_password"
        ),
    )
    analyst_clickhouse_password: SecretStr = Field(
        SecretStr(""),
        validation_alias=AliasChoices(
            "JOURNEY_ANALYST_CLICKHOUSE_PASSWORD", "analyst_clickhouse_password"
        ),
    )

    clickhouse_cluster: str = Field(
        "",
        pattern=r"^([A-Za-z_][A-Za-z0-9_]*)?$",
        validation_alias=AliasChoices("JOURNEY_CLICKHOUSE_CLUSTER", "clickhouse_cluster"),
        description="A ClickHouse cluster name: migrations then create the cluster schema.",
    )
    dashboard_auth: Literal["none", "oidc"] = Field(
        "none",
        validation_alias=AliasChoices("JOURNEY_DASHBOARD_AUTH", "dashboard_auth"),
        description="none (local default) or oidc: sign-in through Streamlit's st.login.",
    )
    dashboard_auth_provider: str = Field(
        "",
        pattern=r"^([a-z0-9_]+)?$",
        validation_alias=AliasChoices("JOURNEY_DASHBOARD_AUTH_PROVIDER", "dashboard_auth_provider"),
        description="The [auth.<provider>] section of secrets.toml to use; empty: [auth] itself.",
    )
    dashboard_allowed_domains: str = Field(
        "",
        validation_alias=AliasChoices(
            "JOURNEY_DASHBOARD_ALLOWED_DOMAINS", "dashboard_allowed_domains"
        ),
        description="Comma-separated e-mail domains let in; empty: whoever the provider signs in.",
    )
    dashboard_allow_write: bool = Field(
        False,
        validation_alias=AliasChoices("JOURNEY_DASHBOARD_ALLOW_WRITE", "dashboard_allow_write"),
        description="Let the dashboard run with ClickHouse credentials that can write.",
    )

    late_grace_s: float = Field(
        3600.0,
        ge=0,
        validation_alias=AliasChoices("JOURNEY_LATE_GRACE_S", "late_grace_s"),
        description="Events this far behind a partition's event-time watermark are on time.",
    )
    journey_state_days: float = Field(
        120.0,
        gt=0,
        validation_alias=AliasChoices("JOURNEY_STATE_DAYS", "journey_state_days"),
        description="A journey's worker state (dedup, join) lives this long after its last event.",
    )

    customer_stage: bool = Field(
        True,
        validation_alias=AliasChoices("JOURNEY_CUSTOMER_STAGE", "customer_stage"),
        description="Run the second, customer-keyed stage (leakage, repeat contact): the "
        "worker hands the customers' own events on to the customers topic and consumes it.",
    )
    worker_stages: str = Field(
        "ingest,customers",
        validation_alias=AliasChoices("JOURNEY_WORKER_STAGES", "worker_stages"),
        description="Which stages this worker process runs: ingest, customers, or both. Run "
        "them apart with a JOURNEY_APP_ID of its own for each (a consumer group each).",
    )
    leakage_window: str = Field(
        "24h",
        validation_alias=AliasChoices("JOURNEY_LEAKAGE_WINDOW", "leakage_window"),
        description="A call or chat at most this long after the same customer's web visit is "
        "digital-to-call leakage (a duration: 90m, 24h, 2d).",
    )
    repeat_window: str = Field(
        "7d",
        validation_alias=AliasChoices("JOURNEY_REPEAT_WINDOW", "repeat_window"),
        description="A contact at most this long after the same customer's earlier contact is "
        "a repeat contact (a duration: 72h, 7d).",
    )

    stall_after_s: float = Field(
        60.0,
        gt=0,
        validation_alias=AliasChoices("JOURNEY_STALL_AFTER_S", "stall_after_s"),
        description="A worker partition with records waiting and no progress this long is "
        "stalled: /ready, /metrics and journey status say so.",
    )

    alerts_file: Path = Field(
        Path("deploy/alerts.toml"),
        validation_alias=AliasChoices("JOURNEY_ALERTS_FILE", "alerts_file"),
        description="The alert rules (TOML) journey alerts check and the worker evaluate.",
    )
    alerts_every_s: float = Field(
        0.0,
        ge=0,
        validation_alias=AliasChoices("JOURNEY_ALERTS_EVERY_S", "alerts_every_s"),
        description="How often the worker checks the alert rules (its leader only); 0: never.",
    )

    @field_validator("worker_stages")
    @classmethod
    def _are_stages(cls, value: str) -> str:
        named = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [n for n in named if n not in STAGES]
        if unknown or not named:
            raise ValueError(
                f"{value!r} names {unknown or 'no stage'}; stages are {', '.join(STAGES)}"
            )
        return ",".join(named)

    @property
    def stages(self) -> frozenset[str]:
        """The stages this worker process runs (JOURNEY_WORKER_STAGES); the customers stage
        only when JOURNEY_CUSTOMER_STAGE is on."""
        named = frozenset(self.worker_stages.split(","))
        return named if self.customer_stage else named - {"customers"}

    @field_validator("leakage_window", "repeat_window")
    @classmethod
    def _is_a_duration(cls, value: str) -> str:
        duration_ms(value)  # ValueError: what is wrong with it
        return value

    @property
    def leakage_window_ms(self) -> int:
        """JOURNEY_LEAKAGE_WINDOW in milliseconds."""
        return duration_ms(self.leakage_window)

    @property
    def repeat_window_ms(self) -> int:
        """JOURNEY_REPEAT_WINDOW in milliseconds."""
        return duration_ms(self.repeat_window)

    @field_validator("pseudonym_key")
    @classmethod
    def _key_is_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("JOURNEY_PSEUDONYM_KEY is set but empty: give the publisher its key")
        return value

    @field_validator("clickhouse_url")
    @classmethod
    def _url_is_clickhouse(cls, value: SecretStr) -> SecretStr:
        ClickHouseUrl.parse(value.get_secret_value())  # ValueError: what is wrong with it
        return value

    @property
    def clickhouse_target(self) -> ClickHouseUrl:
        """CLICKHOUSE_URL's parts: host, port, database, credentials."""
        return ClickHouseUrl.parse(self.clickhouse_url.get_secret_value())

    @property
    def clickhouse_port(self) -> int:
        """HTTP port named by CLICKHOUSE_URL (the one the embedded server listens on)."""
        return self.clickhouse_target.port

    @property
    def clickhouse_database(self) -> str:
        """Database named by the path of CLICKHOUSE_URL (``journey`` by default)."""
        return self.clickhouse_target.database

    @property
    def topic_interactions(self) -> str:
        """Topic engineers publish interaction events to."""
        return f"{self.topic_prefix}.interactions.v1"

    @property
    def topic_customers(self) -> str:
        """The repartition topic of the second stage: the customers' own accepted events,
        keyed by customer pseudonym (docs/customer-metrics.md)."""
        return f"{self.topic_prefix}.customers.v1"

    @property
    def topic_dead_letters(self) -> str:
        """Topic the worker sends undecodable or invalid records to, with the reason."""
        return f"{self.topic_prefix}.interactions.dead-letters.v1"

    def masked_clickhouse_url(self) -> str:
        """CLICKHOUSE_URL with its password replaced, safe to print and log."""
        return mask_url(self.clickhouse_url.get_secret_value())

    def values_by_env_name(self) -> dict[str, Any]:
        """Every setting's value under its environment name, in declaration order (a nested
        model's fields under ``<FIELD>_<SUBFIELD>``, as they are read)."""
        out: dict[str, Any] = {}
        for name, spec in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, BaseModel):
                for sub in type(value).model_fields:
                    out[f"{name}_{sub}".upper()] = getattr(value, sub)
            else:
                out[env_name(name, spec)] = value
        return out

    def secrets_by_env_name(self) -> dict[str, str]:
        """Every secret setting's value, in clear, under its environment name (for code that
        names its secrets by their variables, such as ``access.passwords_from``)."""
        return {
            name: value.get_secret_value()
            for name, value in self.values_by_env_name().items()
            if isinstance(value, SecretStr)
        }

    def describe(self) -> dict[str, str]:
        """Every setting as text under its environment name, in declaration order, secrets
        masked (a URL keeps all but its password): what `journey config` prints. Built from
        the model, so a new setting is shown without being listed here."""
        out: dict[str, str] = {}
        for name, value in self.values_by_env_name().items():
            if isinstance(value, SecretStr):
                secret = value.get_secret_value()
                text = mask_url(secret) if "://" in secret else (MASK if secret else "")
            elif isinstance(value, bool):
                text = str(value).lower()
            elif isinstance(value, float):
                text = f"{value:g}"
            else:
                text = str(value)
            out[name] = text
        return out


STAGES = ("ingest", "customers")  # the worker's stages (streams/agents/interactions.py)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text: str) -> int:
    """``90m``, ``24h``, ``7d`` (or ``ms``, ``s``) in milliseconds; ValueError naming what is
    wrong for anything else, or for a duration of zero."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: a number and a unit, ms, s, m, h or d (24h, 7d)"
        )
    ms = round(float(match.group(1)) * _UNIT_MS[match.group(2)])
    if ms <= 0:
        raise ValueError(f"{text!r}: a window must be longer than zero")
    return ms


def env_name(name: str, spec: FieldInfo) -> str:
    """The environment variable a setting is read from (its first alias)."""
    alias = spec.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return name.upper()


def env_name_at(loc: tuple[int | str, ...]) -> str:
    """The environment variable behind the location of a validation error (``("kafka",
    "bootstrap")`` is ``KAFKA_BOOTSTRAP``)."""
    fields = Settings.model_fields
    if loc and loc[0] in fields and len(loc) > 1:
        return f"{loc[0]}_{loc[1]}".upper()
    if loc and loc[0] in fields:
        return env_name(str(loc[0]), fields[str(loc[0])])
    return ".".join(str(part) for part in loc) or "settings"


def load_settings() -> Settings:
    """Build the settings from the environment; called once per entry point."""
    return Settings()
