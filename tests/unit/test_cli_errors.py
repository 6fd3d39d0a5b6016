"""Unreachable systems and bad settings give one readable line, not a traceback."""

import subprocess

from tests.support import free_port, run_journey


def _env(**extra: str) -> dict[str, str]:
    return {"JOURNEY_STATE_DIR": "/tmp/journey-cli-errors", **extra}


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The single stderr line of a failed command, checked for code and no traceback."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unreachable_clickhouse_is_one_line() -> None:
    port = free_port()
    result = run_journey("migrate", env=_env(CLICKHOUSE_URL=f"http://127.0.0.1:{port}/journey"))
    line = one_line_error(result, 1)
    assert f"cannot reach ClickHouse at http://127.0.0.1:{port}/journey" in line


def test_bad_clickhouse_url_is_one_line() -> None:
    result = run_journey("migrate", env=_env(CLICKHOUSE_URL="postgres://db/x"))
    assert "CLICKHOUSE_URL must look like" in one_line_error(result, 2)


def test_password_never_printed_on_error() -> None:
    port = free_port()
    result = run_journey(
        "migrate", env=_env(CLICKHOUSE_URL=f"http://u:hunter2@127.0.0.1:{port}/journey")
    )
    assert "hunter2" not in result.stderr + result.stdout
    assert "u:********@127.0.0.1" in one_line_error(result, 1)


def test_unreachable_broker_is_one_line() -> None:
    port = free_port()
    result = run_journey("topics", env=_env(KAFKA_BOOTSTRAP=f"127.0.0.1:{port}"))
    assert f"cannot reach Kafka at 127.0.0.1:{port}" in one_line_error(result, 1)
