"""Proves the undocumented chdb path: a real ClickHouse HTTP server over one data directory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import clickhouse_connect
import pytest

from deploy.local.clickhouse_server import EmbeddedClickHouse
from tests.support import free_port

pytestmark = pytest.mark.integration

WRITER = textwrap.dedent("""
    import sys, clickhouse_connect
    client = clickhouse_connect.get_client(host="127.0.0.1", port=int(sys.argv[1]))
    client.command("CREATE TABLE IF NOT EXISTS shared (n UInt64, who String) "
                   "ENGINE = MergeTree ORDER BY n")
    for batch in range(20):
        client.insert("shared", [[batch * 1000 + i, "writer"] for i in range(1000)],
                      column_names=["n", "who"])
    print("wrote", flush=True)
""")

READER = textwrap.dedent("""
    import sys, time, clickhouse_connect
    client = clickhouse_connect.get_client(host="127.0.0.1", port=int(sys.argv[1]))
    seen = set()
    deadline = time.time() + 60
    while time.time() < deadline:
        n = client.query("SELECT count() FROM shared").result_rows[0][0] if client.query(
            "EXISTS TABLE shared").result_rows[0][0] else 0
        seen.add(n)
        if n == 20000:
            break
        time.sleep(0.01)
    print(max(seen), len(seen), flush=True)
""")


SLOW_INSERT = textwrap.dedent("""
    import sys, clickhouse_connect
    c = clickhouse_connect.get_client(host="127.0.0.1", port=int(sys.argv[1]))
    c.command("INSERT INTO slow SELECT number FROM numbers(40) WHERE sleepEachRow(0.05) = 0 "
              "SETTINGS max_block_size = 1")
    print("inserted", flush=True)
""")


@pytest.fixture
def server(tmp_path: Path) -> EmbeddedClickHouse:
    server = EmbeddedClickHouse(tmp_path, port=free_port())
    server.start()
    yield server
    server.stop()


def test_writer_and_reader_processes_share_the_store(server: EmbeddedClickHouse) -> None:
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(server.port)], stdout=subprocess.PIPE, text=True
    )
    writer = subprocess.run(
        [sys.executable, "-c", WRITER, str(server.port)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out, _ = reader.communicate(timeout=120)
    assert writer.returncode == 0, writer.stderr
    final, distinct_counts = (int(x) for x in out.split())
    assert final == 20000
    # The reader watched the table grow while the other process wrote: truly concurrent.
    assert distinct_counts > 1


def test_data_survives_stop_and_restart(server: EmbeddedClickHouse) -> None:
    client = clickhouse_connect.get_client(host="127.0.0.1", port=server.port)
    client.command("CREATE TABLE durable (n UInt64) ENGINE = MergeTree ORDER BY n")
    client.insert("durable", [[i] for i in range(12345)], column_names=["n"])
    client.close()
    assert server.stop()
    assert not server.process.is_running()
    server.start()
    client = clickhouse_connect.get_client(host="127.0.0.1", port=server.port)
    assert client.query("SELECT count(), sum(n) FROM durable").result_rows == [
        (12345, sum(range(12345)))
    ]
    # The HTTP default format is TabSeparated, which clickhouse-connect's commands expect.
    assert client.command("SELECT 'tab\tseparated'") == "tab\\tseparated"


def test_one_owner_per_data_directory(server: EmbeddedClickHouse, tmp_path: Path) -> None:
    second = EmbeddedClickHouse(tmp_path, port=free_port())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy.local.clickhouse_server",
            "--data-dir",
            str(second.data_dir),
            "--port",
            str(second.port),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "already owns the ClickHouse data directory" in result.stderr


def test_sigterm_waits_for_an_insert_in_flight(server: EmbeddedClickHouse) -> None:
    client = clickhouse_connect.get_client(host="127.0.0.1", port=server.port)
    client.command("CREATE TABLE slow (n UInt64) ENGINE = MergeTree ORDER BY n")
    # An INSERT ... SELECT that takes about two seconds, sent from another process.
    slow = subprocess.Popen(
        [sys.executable, "-c", SLOW_INSERT, str(server.port)], stdout=subprocess.PIPE, text=True
    )
    import time

    time.sleep(0.7)
    server.stop()
    out, _ = slow.communicate(timeout=60)
    assert "inserted" in out
    server.start()
    client = clickhouse_connect.get_client(host="127.0.0.1", port=server.port)
    assert client.query("SELECT count() FROM slow").result_rows == [(40,)]


@pytest.mark.parametrize("content", [b"", b"a stray log line {[\n"])
def test_the_server_does_not_depend_on_what_its_stdin_is(tmp_path: Path, content: bytes) -> None:
    """clickhouse-local reads a stdin that is a regular file as input data; an empty one (what
    /dev/null becomes when something replaced it) once stopped the engine at start."""
    from deploy.local.clickhouse_server import ping
    from tests.support import wait_for

    stdin = tmp_path / "stdin"
    stdin.write_bytes(content)
    port = free_port()
    with open(stdin, "rb") as given:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deploy.local.clickhouse_server",
                "--data-dir",
                str(tmp_path / "data"),
                "--port",
                str(port),
            ],
            stdin=given,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        wait_for(lambda: ping("127.0.0.1", port) or server.poll() is not None, 60, "the server")
        assert server.poll() is None, "the server stopped at start"
        client = clickhouse_connect.get_client(host="127.0.0.1", port=port)
        assert client.command("SELECT 41 + 1") == 42
    finally:
        server.terminate()
        server.wait(timeout=60)
