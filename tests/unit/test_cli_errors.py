"""Unreachable systems and bad settings give one readable line, not a traceback."""

from tests.support import free_port, run_journey


def _env(**extra: str) -> dict[str, str]:
    return {"JOURNEY_STATE_DIR": "/tmp/journey-cli-errors", **extra}


def test_unreachable_clickhouse_is_one_line() -> None:
    port = free_port()
    result = run_journey("migrate", env=_env(CLICKHOUSE_URL=f"http://127.0.0.1:{port}/journey"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"cannot reach ClickHouse at http://127.0.0.1:{port}/journey" in lines[0]


def test_bad_clickhouse_url_is_one_line() -> None:
    result = run_journey("migrate", env=_env(CLICKHOUSE_URL="postgres://db/x"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "CLICKHOUSE_URL must look like" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_password_never_printed_on_error() -> None:
    port = free_port()
    result = run_journey(
        "migrate", env=_env(CLICKHOUSE_URL=f"http://u:hunter2@127.0.0.1:{port}/journey")
    )
    assert "hunter2" not in result.stderr + result.stdout
    assert "u:********@127.0.0.1" in result.stderr


def test_unreachable_broker_is_one_line() -> None:
    port = free_port()
    result = run_journey("topics", env=_env(KAFKA_BOOTSTRAP=f"127.0.0.1:{port}"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"cannot reach Kafka at 127.0.0.1:{port}" in lines[0]
