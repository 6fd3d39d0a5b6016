"""The ClickHouse sink: batched, idempotent inserts that wait out an unreachable server.

A batch is written as one insert (never a row at a time) tagged with an
``insert_deduplication_token`` built from the topic and the partition offset ranges it
covers, so a retry of the same batch after a timeout is stored once. While ClickHouse is
unreachable the same batch is retried with backoff; the agent awaiting ``write`` stops
pulling records meanwhile, so memory stays bounded and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from clickhouse_connect.driver.client import Client

from streams import faults

log = logging.getLogger(__name__)

# Server error codes that mean the statement itself is wrong (schema drift, a broken query,
# missing rights): retrying the same statement for ever would hang the worker silently.
PERMANENT_CODES = frozenset(
    {
        16,  # NO_SUCH_COLUMN_IN_TABLE
        36,  # BAD_ARGUMENTS
        42,  # NUMBER_OF_ARGUMENTS_DOESNT_MATCH
        43,  # ILLEGAL_TYPE_OF_ARGUMENT
        46,  # UNKNOWN_FUNCTION
        47,  # UNKNOWN_IDENTIFIER
        53,  # TYPE_MISMATCH
        60,  # UNKNOWN_TABLE
        62,  # SYNTAX_ERROR
        164,  # READONLY
        184,  # ILLEGAL_AGGREGATION
        215,  # NOT_AN_AGGREGATE
        497,  # ACCESS_DENIED
        516,  # AUTHENTICATION_FAILED
    }
)


class PermanentSinkError(RuntimeError):
    """ClickHouse refused the statement itself; the worker stops instead of retrying."""


def transient(exc: BaseException) -> bool:
    """Whether retrying the same statement can succeed (the server is down, restarting,
    overloaded), as opposed to a statement ClickHouse will always refuse."""
    from clickhouse_connect.driver.exceptions import ProgrammingError

    if isinstance(exc, ProgrammingError):  # raised by the client: the statement is wrong
        return False
    if isinstance(exc, TypeError | AttributeError | KeyError | ValueError):
        return False  # the rows themselves cannot be serialised: sending them again cannot help
    return getattr(exc, "code", None) not in PERMANENT_CODES


class Sink(Protocol):
    """Anything a batch of rows can be written to."""

    async def write(self, batch: Batch) -> int: ...


@dataclass(frozen=True)
class Batch:
    """Rows for one table, column by column, with the token that makes re-inserting them
    harmless. ``types`` names each column's type as sent (no per-insert DESCRIBE; a
    LowCardinality column may be sent as String: the server converts it). ``native`` is the
    same rows already in ClickHouse's Native format (:func:`encoded`), ``data`` then empty."""

    table: str
    columns: Sequence[str]
    data: Sequence[Sequence[Any]]  # one sequence of values per column
    token: str
    types: Sequence[str]
    native: bytes | None = None
    rows: int = -1

    @property
    def size(self) -> int:
        """How many rows."""
        if self.rows >= 0:
            return self.rows
        return len(self.data[0]) if self.data else 0


def encoded(batch: Batch) -> Batch:
    """``batch`` as the body of its insert (the INSERT statement, then the rows in ClickHouse's
    Native format): the Python values can go, and the insert (and every retry) sends bytes.
    Raises TypeError for rows that cannot be serialised (sending them again cannot help)."""
    from clickhouse_connect.datatypes.registry import get_from_name
    from clickhouse_connect.driver.insert import InsertContext
    from clickhouse_connect.driver.transform import NativeTransform

    context = InsertContext(
        batch.table,
        list(batch.columns),
        [get_from_name(t) for t in batch.types],
        batch.data,
        column_oriented=True,
    )
    body = b"".join(NativeTransform.build_insert(context))
    failure = context.insert_exception
    # The context refers to itself (a cycle): let go of the rows now, not at the collector's
    # next full pass, or every flush's columns would stay in memory until then.
    context.data = None
    context.__dict__.clear()
    if failure is not None:
        raise TypeError(f"rows of {batch.table} cannot be sent: {failure}")
    return Batch(batch.table, batch.columns, (), batch.token, batch.types, body, batch.size)


def insert(client: Client, batch: Batch) -> None:
    """One insert of ``batch``, column-oriented, idempotent under its token."""
    settings = {
        "insert_deduplication_token": batch.token,
        # Older servers default to off: every view's target must de-duplicate too.
        "deduplicate_blocks_in_dependent_materialized_views": 1,
        # A backfill batch may span more than the default 100 monthly partitions of the raw
        # table; refusing it would stall the partition forever.
        "max_partitions_per_insert_block": 0,
        # On a cluster (ingest_facts is Distributed): acknowledged means on the shard.
        "distributed_foreground_insert": 1,
    }
    if batch.native is not None:  # no table: the INSERT statement is part of it (encoded())
        client.raw_insert("", None, batch.native, settings=settings)
        return
    client.insert(
        batch.table,
        batch.data,
        column_names=list(batch.columns),
        column_type_names=list(batch.types),
        column_oriented=True,
        settings=settings,
    )


def facts_batch(columns: Sequence[Sequence[Any]], token: str) -> Batch:
    """The insert into ``ingest_facts`` of a flush's columns (``aggregate.finish``)."""
    from streams.logic.facts import FACT_TYPES

    return Batch("ingest_facts", tuple(FACT_TYPES), columns, token, tuple(FACT_TYPES.values()))


class ClickHouseSink:
    """Writes batches through a clickhouse-connect client, in a thread, retrying forever."""

    def __init__(
        self,
        client_factory: Callable[[], Client],
        *,
        max_backoff: float = 5.0,
        fault: faults.InsertFault | None = None,
    ) -> None:
        self._client_factory = client_factory
        self._client: Client | None = None
        self._max_backoff = max_backoff
        self._fault = fault  # the chaos suite's fault point (streams/faults.py); None in use
        self._inserts = 0
        self.failed_attempts = 0

    def _client_now(self) -> Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _insert(self, batch: Batch) -> None:
        insert(self._client_now(), batch)

    def _query(self, sql: str, parameters: dict[str, Any] | None) -> list[tuple[Any, ...]]:
        result = self._client_now().query(sql, parameters=parameters)
        return [tuple(row) for row in result.result_rows]

    async def ping(self, timeout: float = 2.0) -> bool:
        """Whether ClickHouse answers ``SELECT 1`` within ``timeout`` (no retry: a probe)."""
        try:
            await asyncio.wait_for(asyncio.to_thread(self._query, "SELECT 1", None), timeout)
        except Exception:  # unreachable, refusing or slow: not ready
            self._client = None
            return False
        return True

    async def read(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run a read query (at start and after a rebalance, never per record), retrying like
        ``write`` while ClickHouse is unreachable."""
        delay = 0.2
        while True:
            try:
                return await asyncio.to_thread(self._query, sql, parameters)
            except Exception as exc:  # unreachable or restarting: wait, as write does
                if not transient(exc):
                    raise PermanentSinkError(f"ClickHouse refused a query: {_first(exc)}") from exc
                log.warning("ClickHouse query failed, retrying in %.1fs: %s", delay, _first(exc))
                self._client = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)

    async def write(self, batch: Batch) -> int:
        """Insert the batch; on failure retry the very same batch until it lands.

        Returns how many attempts failed before it landed."""
        if not batch.size:
            return 0
        fault = self._fault if batch.table == faults.FAULT_TABLE else None
        self._inserts += fault is not None
        if fault and fault.fires("before", self._inserts):
            faults.kill_self()
        if fault and fault.fires("stop", self._inserts):
            faults.stop_self()
        if fault and fault.fires("during", self._inserts):
            faults.kill_self_soon()
        delay = 0.2
        failures = 0
        while True:
            try:
                await asyncio.to_thread(self._insert, batch)
                if fault and fault.fires("after", self._inserts):
                    faults.kill_self()
                if fault and fault.fires("double", self._inserts):
                    again = replace(batch, token=batch.token + "/again")
                    await asyncio.to_thread(self._insert, again)
                if failures:
                    log.warning("ClickHouse reachable again; batch %s written", batch.token)
                self.failed_attempts = 0
                return failures
            except Exception as exc:  # any failure: the batch stays ours and is retried
                if not transient(exc):
                    raise PermanentSinkError(
                        f"ClickHouse refused the insert into {batch.table}: {_first(exc)}"
                    ) from exc
                failures += 1
                self.failed_attempts += 1
                if failures == 1 or failures % 20 == 0:
                    log.warning(
                        "insert into %s failed (%s attempts), retrying in %.1fs: %s",
                        batch.table,
                        failures,
                        delay,
                        _first(exc),
                    )
                self._client = None  # a fresh connection after a server restart
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)


def _first(exc: BaseException) -> str:
    """The first line of an error, short enough for a log line."""
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
