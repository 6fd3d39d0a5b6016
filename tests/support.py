"""Helpers shared by the test suites (no fixtures here: see conftest.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from deploy.local.processes import ManagedProcess
from streams.clickhouse.local_accounts import ADMIN_USER, USER_OF_ROLE, LocalAccounts, Role
from streams.clickhouse.url import ClickHouseUrl
from streams.settings import Settings

REPO = Path(__file__).resolve().parent.parent


# The test servers' accounts (streams/clickhouse/local_accounts.py): the administrator for
# migrations and fixtures, and each process under test as its own least-privileged account.
TEST_ACCOUNTS = LocalAccounts(
    {user: f"pw-{user}-{uuid.uuid4().hex}" for user in USER_OF_ROLE.values()}
)


def account_url(url: str, role: Role) -> str:
    """``url`` (any credentials in it replaced) as the test servers' account for ``role``."""
    user = USER_OF_ROLE[role]
    return ClickHouseUrl.parse(url).with_account(user, TEST_ACCOUNTS.passwords[user])


MEMORY_FS = Path("/dev/shm")
ON_DISK_ENV = "JOURNEY_TEST_CLICKHOUSE_ON_DISK"


@contextmanager
def clickhouse_scratch() -> Iterator[Path | None]:
    """Where a lab's embedded ClickHouse keeps its data (``EmbeddedClickHouse.data_root``): a
    fresh directory on the memory filesystem, removed afterwards, or None (under the lab's
    state directory) if there is none, or if ``JOURNEY_TEST_CLICKHOUSE_ON_DISK`` is set.

    A lab's data is thrown away, and on this project's VM the disk is ext4 without a journal,
    where ClickHouse's file churn costs it half its CPU in the kernel
    (``deploy.local.clickhouse_server.slow_file_creation``): a server of its own would not pay
    that, so the labs measure ClickHouse as it runs on a sound filesystem."""
    usable = MEMORY_FS.is_dir() and os.access(MEMORY_FS, os.W_OK)
    if os.environ.get(ON_DISK_ENV) or not usable:
        yield None
        return
    with tempfile.TemporaryDirectory(dir=MEMORY_FS, prefix="journey-clickhouse-") as root:
        yield Path(root)


def accounted_server(state: Path, databases: str | list[str], data_root: Path | None) -> Any:
    """An embedded ClickHouse (not started) in ``state``, its data under ``data_root`` (see
    :func:`clickhouse_scratch`), with the test accounts granted on ``databases``, as ``journey
    up`` runs it (see :func:`account_url` for each role's URL)."""
    from deploy.local.clickhouse_server import EmbeddedClickHouse

    users = state / "users.xml"
    users.write_text(TEST_ACCOUNTS.users_xml(databases))
    return EmbeddedClickHouse(
        state,
        port=free_port(),
        users_xml=users,
        admin_password=TEST_ACCOUNTS.passwords[ADMIN_USER],
        data_root=data_root,
    )


@contextmanager
def accounted_clickhouse(state: Path, database: str) -> Iterator[Any]:
    """:func:`accounted_server` on ``database``, started; yields the server."""
    with clickhouse_scratch() as data_root:
        server = accounted_server(state, database, data_root)
        server.start()
        try:
            yield server
        finally:
            server.stop()


# The session's server grants the journey accounts on each of these databases (a grant names
# its tables, and clickhouse-local reads its users.xml once, at start): one per test.
DATABASE_POOL = 400


def fresh_database(services: dict[str, Any]) -> str:
    """A database of the session's pool (the accounts are granted on it), never used before."""
    try:
        return str(next(services["databases"]))
    except StopIteration:
        raise AssertionError(
            f"the {DATABASE_POOL} databases of the pool are used up: raise DATABASE_POOL"
        ) from None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str) -> str:
    """A short unique name (topics, groups, databases) so tests never share state."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that reproduce ``settings`` in a child process: every setting,
    under the name it is read from, secrets in clear."""
    env = {}
    for name, value in settings.values_by_env_name().items():
        if isinstance(value, SecretStr):
            env[name] = value.get_secret_value()
        elif isinstance(value, bool):
            env[name] = str(value).lower()
        else:
            env[name] = str(value)
    return env


def run_journey(
    *args: str, env: Mapping[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the ``journey`` CLI in a child process with exactly these settings."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("JOURNEY_", "KAFKA_"))}
    full_env.pop("CLICKHOUSE_URL", None)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "streams", *args],
        env=full_env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    """Poll ``check`` until true, else fail the test saying what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def worker_web_port(worker: ManagedProcess) -> int:
    """The web port a worker was started with (conftest gives each its own)."""
    environ = Path(f"/proc/{worker.pid()}/environ").read_bytes().split(b"\0")
    for item in environ:
        if item.startswith(b"JOURNEY_WORKER_WEB_PORT="):
            return int(item.split(b"=", 1)[1])
    raise AssertionError("the worker has no JOURNEY_WORKER_WEB_PORT")


def write_like_the_worker(
    client: Any,
    records: list[Any],
    *,
    now_ms: int,
    lags: dict[int, int] | None = None,
    worker: str = "fixture",
    epochs: dict[int, int] | None = None,
    omit: frozenset[str] = frozenset(),
    token: str | None = None,
    customers: bool = True,
) -> None:
    """Decide ``records`` (SourceRecords) with the worker's logic and write them as one insert
    into ingest_facts, as the worker does (``omit``: columns an older schema lacks; ``token``:
    the insert's de-duplication token, else one of its own). With ``customers`` (the worker's
    default) the customers stage decides what the ingest stage handed on, in an insert of its
    own, on topic ``<topic>.customers``."""
    from streams.logic.aggregate import PartitionBatch, Rules, finish, plan_flush
    from streams.logic.customer_flush import plan_customers
    from streams.logic.customers import Windows
    from streams.logic.ingest import SourceRecord
    from streams.logic.journey_state import MemoryStates
    from streams.sinks.clickhouse import Batch, facts_batch, insert

    rules = Rules(forward_customers=customers and not omit)
    flush = plan_flush(PartitionBatch.of(records), {}, MemoryStates(), rules)
    if flush.forward:
        topic = f"{records[0].topic}.customers"
        handed = [SourceRecord(topic, 0, i, now_ms, v) for i, (_, v) in enumerate(flush.forward)]
        second = plan_customers(PartitionBatch.of(handed), {}, MemoryStates(), Windows())
        rows = finish(second, lags={}, worker=worker, now_ms=now_ms, epochs=epochs)
        # a resend under the same token lands once, for this insert too
        again = f"{token}/customers" if token else f"{second.token}/{time.time_ns()}"
        insert(client, facts_batch(rows, again))
    columns = finish(flush, lags=lags or {}, worker=worker, now_ms=now_ms, epochs=epochs)
    batch = facts_batch(columns, flush.token)
    keep = [i for i, name in enumerate(batch.columns) if name not in omit]
    insert(
        client,
        Batch(
            batch.table,
            [batch.columns[i] for i in keep],
            [batch.data[i] for i in keep],
            token or f"{batch.token}/{time.time_ns()}",
            [batch.types[i] for i in keep],
        ),
    )


class MemoryTail:
    """Stands in for ``TopicReader``: a topic partition's log as a list of (offset, key, value),
    read the way the broker answers (from ``start``, up to ``end``)."""

    def __init__(self, log: dict[int, list[tuple[int, bytes, bytes | None]]] | None = None) -> None:
        self.log = log or {}
        self.reads: list[tuple[int, int, int]] = []

    async def ends(self, topic: str, partitions: Any) -> dict[int, int]:
        return {p: (self.log[p][-1][0] + 1 if self.log.get(p) else 0) for p in partitions}

    async def read(self, topic: str, partition: int, start: int, end: int) -> list[Any]:
        self.reads.append((partition, start, end))
        return [e for e in self.log.get(partition, []) if start <= e[0] < end]


class MemoryProducer:
    """Stands in for ``BatchProducer``: records what would go to a topic, each send one batch
    the broker has already taken (offsets 10, 20, ... as base offsets)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, list[tuple[bytes, bytes | None]]]] = []

    async def send(self, topic: str, partition: int, records: Any) -> list[Any]:
        import asyncio
        from types import SimpleNamespace

        from streams.kafka.batch_sender import Delivery

        records = list(records)
        self.sent.append((topic, partition, records))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(SimpleNamespace(offset=10 * len(self.sent)))
        return [Delivery(topic, partition, len(records), future)]
