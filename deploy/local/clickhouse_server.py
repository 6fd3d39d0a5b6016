"""The embedded ClickHouse server: chdb's engine serving ClickHouse's own HTTP interface.

One process owns a data directory and serves HTTP on 127.0.0.1, so the worker, the dashboard
and analysts connect with clickhouse-connect exactly as they would to a real server.

How it works (chdb 4.4 / chdb-core 26.9; not a documented chdb API, hence the exact pins and
``tests/integration/test_embedded_clickhouse.py``):

- ``chdb._chdb.query(sql, "TabSeparated", path=DATA_DIR)`` runs clickhouse-local's main, which
  reads ``config.xml`` from the current directory (``listen_host``, ``http_port``);
- ``SYSTEM START LISTEN HTTP`` starts ClickHouse's HTTP handler inside that call;
- the call must then stay busy, so it runs a query that sleeps one second per row at almost no
  CPU, in a thread, until ``KILL QUERY`` ends it. Only one such call works per process, and the
  output format given becomes the HTTP default format (clickhouse-connect expects
  TabSeparated).

On SIGTERM or SIGINT the server stops taking part in new work only after the queries in flight
(inserts included) have finished, then kills its own idle query and exits: no acknowledged
insert is lost.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.local.processes import LaunchError, ManagedProcess

IDLE_QUERY_MARKER = "journey_embedded_clickhouse_idle"
# Built from constants only (no outside value reaches these strings).
IDLE_QUERY = (
    f"SELECT sum(sleepEachRow(1)) AS {IDLE_QUERY_MARKER} FROM numbers(1e12) "  # noqa: S608
    "SETTINGS function_sleep_max_microseconds_per_block=0, max_block_size=1"
)
CONFIG_XML = """<clickhouse>
    <listen_host>{host}</listen_host>
    <http_port>{port}</http_port>
    <logger><level>warning</level><console>1</console></logger>
    <!-- Queries in flight are drained by serve() before the engine stops; idle keep-alive
         connections need not hold the shutdown for the default 5 s. -->
    <shutdown_wait_unfinished>0</shutdown_wait_unfinished>
    <!-- The engine's shutdown waits for idle keep-alive connections to time out; ClickHouse's
         long default would hold every stop. Clients reconnect transparently. -->
    <keep_alive_timeout>2</keep_alive_timeout>{extra}
</clickhouse>
"""
# clickhouse-local reads users, grants, profiles and quotas from a users.xml only (no
# SQL-driven access control): streams.clickhouse.access renders the journey accounts into one.
USERS_XML_CONFIG = """
    <user_directories><users_xml><path>{path}</path></users_xml></user_directories>"""
# A one-node cluster, so the cluster schema (streams/clickhouse/cluster.py) runs here: Distributed
# tables over this server's native TCP port. (Replicated tables cannot run in clickhouse-local:
# it sets no interserver address, so their replicas stay read-only.)
CLUSTER_CONFIG = """
    <tcp_port>{tcp_port}</tcp_port>
    <remote_servers><{cluster}><shard><replica><host>{host}</host><port>{tcp_port}</port>
    </replica></shard></{cluster}></remote_servers>"""


# With the journey accounts, the server's own drain and stop queries run as the administrator,
# whose password comes from the launcher in this variable (never on the command line).
ADMIN_ENV = "JOURNEY_EMBEDDED_ADMIN_PASSWORD"
ADMIN_USER = "journey_admin"
_admin: dict[str, str] = {}


def _http(host: str, port: int, sql: str, timeout: float = 5.0) -> str:
    headers = (
        {"X-ClickHouse-User": ADMIN_USER, "X-ClickHouse-Key": _admin["password"]} if _admin else {}
    )
    request = urllib.request.Request(f"http://{host}:{port}/", data=sql.encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read()
        return body.decode()


def ping(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if a ClickHouse HTTP interface answers ``/ping`` at host:port."""
    try:
        url = f"http://{host}:{port}/ping"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.read().startswith(b"Ok"))
    except (urllib.error.URLError, OSError):
        return False


def slow_file_creation(
    path: Path,
    mountinfo: Path = Path("/proc/self/mountinfo"),
    journals: Path = Path("/proc/fs/jbd2"),
) -> str | None:
    """Why creating files under ``path`` is slow, if it is: an ext4 filesystem without a
    journal. There the kernel, looking for a free inode, skips every inode deleted in the last
    minute or so (``recently_deleted`` in fs/ext4/ialloc.c, checked only without a journal),
    one buffer lookup each, and ClickHouse creates and deletes files all the time (a part per
    table and insert, a dozen files each; merges replace them). On such a disk (this project's
    2-core VM, 2026-12-07) perf put 60% of ClickHouse's CPU in that scan during a backfill:
    24-32 us of CPU a record, 14-20 on a memory filesystem."""
    if not mountinfo.exists():
        return None
    target = str(path.resolve())
    best: tuple[str, str, str] | None = None  # mount point, type, source
    for line in mountinfo.read_text().splitlines():
        fields, _, rest = line.partition(" - ")
        point = fields.split()[4]
        fstype, source = [*rest.split(), "", ""][:2]
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > len(best[0])):
            best = (point, fstype, source)
    if best is None or best[1] != "ext4":
        return None
    device = Path(best[2]).resolve().name  # /dev/mapper/x is dm-N to the kernel
    if journals.is_dir() and any(j.name.startswith(f"{device}-") for j in journals.iterdir()):
        return None  # jbd2 keeps a directory per journal: <device>-<inode of the journal>
    return (
        f"{best[0]} ({best[2]}) is ext4 without a journal: creating files there scans the inodes "
        "deleted in the last minute, and ClickHouse creates and deletes many; expect ClickHouse "
        "to spend much of its CPU in the kernel. Put the data on a journaled filesystem "
        "(ext4 with a journal, XFS)."
    )


def detach_stdin() -> None:
    """Give the engine a stdin with nothing in it, whatever this process was started with.

    clickhouse-local reads a stdin that is a regular file as the input table of the query, and
    an empty or unreadable one stops the engine with CANNOT_DETECT_FORMAT (seen when /dev/null
    had been replaced by a regular file). A pipe whose writing end is closed is neither."""
    read_end, write_end = os.pipe()
    os.close(write_end)
    os.dup2(read_end, 0)
    os.close(read_end)


def serve(
    data_dir: Path,
    host: str,
    port: int,
    drain_timeout: float = 30.0,
    users_xml: Path | None = None,
    cluster: tuple[str, int] | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT; return the process exit code."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = open(data_dir / ".owner.lock", "w")  # noqa: SIM115 (held for the process lifetime)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(
            f"another process already owns the ClickHouse data directory {data_dir}",
            file=sys.stderr,
        )
        return 2
    lock.write(str(os.getpid()))
    lock.flush()

    slow = slow_file_creation(data_dir)
    if slow is not None:
        print(f"warning: the ClickHouse data directory {data_dir}: {slow}", file=sys.stderr)
    run_dir = data_dir.parent / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    extra = USERS_XML_CONFIG.format(path=users_xml) if users_xml else ""
    listen = "SYSTEM START LISTEN HTTP;"
    if cluster is not None:
        extra += CLUSTER_CONFIG.format(cluster=cluster[0], tcp_port=cluster[1], host=host)
        listen += " SYSTEM START LISTEN TCP;"
    (run_dir / "config.xml").write_text(CONFIG_XML.format(host=host, port=port, extra=extra))
    # clickhouse-local reads config.xml from the current directory.
    os.chdir(run_dir)

    detach_stdin()
    import chdb._chdb as engine

    outcome: dict[str, Any] = {}

    def run_engine() -> None:
        try:
            outcome["result"] = engine.query(  # type: ignore[attr-defined]
                f"{listen} {IDLE_QUERY}", "TabSeparated", path=str(data_dir)
            )
        except Exception as exc:  # reported by the main thread
            outcome["error"] = exc

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=run_engine, name="clickhouse-engine", daemon=True)
    thread.start()

    while not stop.wait(0.5):
        if not thread.is_alive():
            print(f"the ClickHouse engine stopped by itself: {outcome}", file=sys.stderr)
            return 1
    print("stopping: waiting for queries in flight", file=sys.stderr, flush=True)
    _drain(host, port, drain_timeout)
    try:
        _http(
            host,
            port,
            "KILL QUERY WHERE query LIKE "
            f"'%{IDLE_QUERY_MARKER} FROM numbers%' AND query_id != queryID() SYNC",
        )
    except (urllib.error.URLError, OSError) as exc:
        print(f"could not end the idle query: {exc}", file=sys.stderr)
        return 1
    thread.join(timeout=15)
    if thread.is_alive():
        # Queries were drained above and MergeTree parts are on disk once an insert returns,
        # so nothing acknowledged is lost by leaving without the engine's own farewell.
        print("engine slow to stop after drain; exiting", file=sys.stderr, flush=True)
        os._exit(0)
    print("stopped", file=sys.stderr, flush=True)
    return 0


def _drain(host: str, port: int, timeout: float) -> None:
    """Wait until no query but the idle one and this check is running (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    check = (
        "SELECT count() FROM system.processes WHERE query_id != queryID() "  # noqa: S608
        f"AND query NOT LIKE '%{IDLE_QUERY_MARKER} FROM numbers%'"
    )
    while time.monotonic() < deadline:
        try:
            if int(_http(host, port, check).strip() or 0) == 0:
                return
        except (urllib.error.URLError, OSError, ValueError):
            return
        time.sleep(0.2)


@dataclass(frozen=True)
class EmbeddedClickHouse:
    """Launcher for the embedded server: data under ``state_dir/clickhouse``."""

    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 8123
    users_xml: Path | None = None  # accounts and grants (streams.clickhouse.access.users_xml)
    admin_password: str | None = None  # of journey_admin, when users_xml has one
    cluster: tuple[str, int] | None = None  # (name, native TCP port) of a one-node cluster
    # Where the data lives, if not under state_dir: the project's test and benchmark labs put it
    # on a memory filesystem (tests/support.py: clickhouse_scratch); see slow_file_creation.
    data_root: Path | None = None

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("clickhouse", self.state_dir)

    @property
    def data_dir(self) -> Path:
        return (self.data_root or self.state_dir) / "clickhouse" / "data"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Launch the server process and wait until it answers ``/ping``."""
        if ping(self.host, self.port, timeout=0.5) and not self.process.is_running():
            raise LaunchError(
                f"something else already answers on {self.url}; "
                "set CLICKHOUSE_URL to another port or stop it"
            )
        self.process.start(
            [
                sys.executable,
                "-m",
                "deploy.local.clickhouse_server",
                "--data-dir",
                str(self.data_dir),
                "--host",
                self.host,
                "--port",
                str(self.port),
                *(["--users-xml", str(self.users_xml.resolve())] if self.users_xml else []),
                *(["--cluster", f"{self.cluster[0]}:{self.cluster[1]}"] if self.cluster else []),
            ],
            env={ADMIN_ENV: self.admin_password} if self.admin_password else None,
        )
        self.process.wait_until(
            lambda: ping(self.host, self.port), timeout=timeout, what=f"answering {self.url}/ping"
        )

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM: in-flight queries finish, then the engine stops."""
        return self.process.stop(timeout=timeout)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the server process (started by ``EmbeddedClickHouse.start``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--users-xml", type=Path, help="users, grants, profiles and quotas")
    parser.add_argument("--cluster", metavar="NAME:TCP_PORT", help="serve as a one-node cluster")
    args = parser.parse_args(argv)
    users = args.users_xml.resolve() if args.users_xml else None
    if os.environ.get(ADMIN_ENV):
        _admin["password"] = os.environ[ADMIN_ENV]
    cluster = None
    if args.cluster:
        name, _, tcp = args.cluster.rpartition(":")
        cluster = (name, int(tcp))
    return serve(args.data_dir.resolve(), args.host, args.port, users_xml=users, cluster=cluster)


if __name__ == "__main__":
    raise SystemExit(main())
