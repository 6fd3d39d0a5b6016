from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.clickhouse.url import mask_url
from streams.kafka.security import KafkaSettings
from streams.settings import Settings, duration_ms


def test_defaults_are_local_and_documented() -> None:
    settings = Settings(_env_file=None)
    assert settings.kafka.bootstrap == "127.0.0.1:9092"
    assert settings.clickhouse_port == 8123
    assert settings.clickhouse_database == "journey"
    assert settings.topic_partitions == 6
    assert settings.topic_interactions == "journey.interactions.v1"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "k1:19092,k2:19092")
    monkeypatch.setenv("CLICKHOUSE_URL", "https://u:secret@ch.example:8443/analytics")
    monkeypatch.setenv("JOURNEY_STATE_DIR", str(tmp_path))
    settings = Settings(_env_file=None)
    assert settings.kafka.host_port == ("k1", 19092)
    assert settings.clickhouse_port == 8443
    assert settings.clickhouse_database == "analytics"
    assert settings.state_dir == tmp_path


def test_secrets_are_masked_when_described() -> None:
    settings = Settings(
        clickhouse_url="http://writer:hunter2@db:8123/journey",
        pseudonym_key="very-secret",
        _env_file=None,
    )
    described = str(settings.describe())
    assert "hunter2" not in described
    assert "very-secret" not in described
    assert "writer:********@db:8123" in described
    assert "hunter2" not in repr(settings)


def test_mask_url_leaves_passwordless_urls_alone() -> None:
    assert mask_url("http://127.0.0.1:8123/journey") == "http://127.0.0.1:8123/journey"


@pytest.mark.parametrize("bad", ["localhost", "host:port", ":9092"])
def test_bad_bootstrap_is_rejected_with_the_entry(bad: str) -> None:
    with pytest.raises(ValidationError, match="host:port"):
        Settings(kafka={"bootstrap": bad}, _env_file=None)


def test_bad_clickhouse_url_is_rejected() -> None:
    with pytest.raises(ValidationError, match="CLICKHOUSE_URL must look like"):
        Settings(clickhouse_url="tcp://db:9000/x", _env_file=None)
    with pytest.raises(ValidationError, match="is not a plain identifier"):  # at start, not use
        Settings(clickhouse_url="http://db:8123/drop-me", _env_file=None)


def test_an_empty_pseudonymisation_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_PSEUDONYM_KEY", "")
    with pytest.raises(ValidationError, match="JOURNEY_PSEUDONYM_KEY is set but empty"):
        Settings(_env_file=None)


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = [
        str(field.validation_alias.choices[0])  # type: ignore[union-attr]
        for field in Settings.model_fields.values()
        if field.validation_alias is not None
    ]
    assert len(names) > 20
    assert [n for n in names if f"`{n}`" not in section] == []


def test_journey_config_shows_every_setting_under_its_environment_name() -> None:
    settings = Settings(
        kafka={
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "PLAIN",
            "sasl_username": "u",
            "sasl_password": "pw",
        },
        _env_file=None,
    )
    described = settings.describe()
    fields = len(Settings.model_fields) - 1 + len(KafkaSettings.model_fields)
    assert len(described) == fields  # a new setting needs no listing
    assert described["JOURNEY_STALL_AFTER_S"] == "60"
    assert described["KAFKA_SSL_CHECK_HOSTNAME"] == "true"
    assert described["KAFKA_SASL_PASSWORD"] == "********"  # a secret that is not a URL
    assert described["KAFKA_SSL_KEY_PASSWORD"] == ""  # an unset secret says so


def test_account_passwords_are_settings_shown_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.clickhouse import access

    for variable, value in [
        ("JOURNEY_WORKER_CLICKHOUSE_PASSWORD", "w-secret"),
        ("JOURNEY_DASHBOARD_CLICKHOUSE_PASSWORD", "d-secret"),
        ("JOURNEY_ANALYST_CLICKHOUSE_PASSWORD", "a-secret"),
    ]:
        monkeypatch.setenv(variable, value)
    settings = Settings(_env_file=None)
    assert access.passwords_from(settings.secrets_by_env_name()) == {
        "journey_worker": "w-secret",
        "journey_dashboard": "d-secret",
        "journey_analyst": "a-secret",
    }
    described = settings.describe()
    assert described["JOURNEY_WORKER_CLICKHOUSE_PASSWORD"] == "********"
    assert "secret" not in str(described) and "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "ms"),
    [("24h", 86_400_000), ("7d", 604_800_000), ("90m", 5_400_000), ("1.5h", 5_400_000)],
)
def test_windows_are_durations(text: str, ms: int) -> None:
    assert duration_ms(text) == ms


@pytest.mark.parametrize("bad", ["24", "24 hours", "0h", "-1d", ""])
def test_a_window_that_is_not_a_duration_is_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="leakage_window"):
        Settings(_env_file=None, leakage_window=bad)


def test_worker_stages_are_named_and_the_customers_stage_needs_its_switch() -> None:
    assert Settings(_env_file=None).stages == {"ingest", "customers"}
    assert Settings(_env_file=None, worker_stages=" customers ").stages == {"customers"}
    assert Settings(_env_file=None, customer_stage=False).stages == {"ingest"}
    with pytest.raises(ValueError, match="worker_stages"):
        Settings(_env_file=None, worker_stages="ingest,billing")
