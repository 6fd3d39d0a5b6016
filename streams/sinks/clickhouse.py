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
import re
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from clickhouse_connect.driver.client import Client

from streams.errors import ServiceUnreachable, first_line
from streams.sinks.native import native_header, native_insert

if TYPE_CHECKING:
    from streams.logic.facts import Facts

log = logging.getLogger(__name__)

# Server errors that pass: the server is overloaded, short of memory or disk, restarting, or
# waiting for a replica or Keeper (src/Common/ErrorCodes.cpp). Only these, and the connection
# itself failing, are retried; any other error is a statement ClickHouse will refuse again
# (schema drift, missing rights, rows it cannot parse), and retrying it would hang the worker
# in silence.
TRANSIENT_CODES = frozenset(
    {
        159,  # TIMEOUT_EXCEEDED
        173,  # CANNOT_ALLOCATE_MEMORY
        201,  # QUOTA_EXPIRED (until the quota's interval ends)
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203,  # NO_FREE_CONNECTION
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        225,  # NO_ZOOKEEPER
        236,  # ABORTED
        241,  # MEMORY_LIMIT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY (a replica lost Keeper)
        243,  # NOT_ENOUGH_SPACE
        252,  # TOO_MANY_PARTS
        254,  # NO_ACTIVE_REPLICAS
        279,  # ALL_CONNECTION_TRIES_FAILED
        285,  # TOO_FEW_LIVE_REPLICAS
        319,  # UNKNOWN_STATUS_OF_INSERT
        364,  # RECEIVED_ERROR_TOO_MANY_REQUESTS
        384,  # PART_IS_TEMPORARILY_LOCKED
        394,  # QUERY_WAS_CANCELLED (a server shutting down)
        425,  # SYSTEM_ERROR
        439,  # CANNOT_SCHEDULE_TASK
        473,  # DEADLOCK_AVOIDED
        999,  # KEEPER_EXCEPTION
        1000,  # POCO_EXCEPTION (network, mostly)
    }
)
_HTTP_STATUS = re.compile(r"HTTP status (\d{3})")


class PermanentSinkError(RuntimeError):
    """ClickHouse refused the statement itself; the worker stops instead of retrying."""


def transient(exc: BaseException) -> bool:
    """Whether retrying the same statement can succeed: the connection failed, or the server
    answered with an error that passes (``TRANSIENT_CODES``, or HTTP 502, 503 or 504 from a
    proxy in front of it). Anything else is permanent."""
    from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

    code = getattr(exc, "code", None)
    if isinstance(exc, DatabaseError) and code is not None:
        return code in TRANSIENT_CODES
    if isinstance(exc, OperationalError | ConnectionError | TimeoutError | ServiceUnreachable):
        return True  # no answer at all: refused, reset, timed out, or no new connection
    if isinstance(exc, DatabaseError):  # an HTTP error without a ClickHouse code
        status = _HTTP_STATUS.search(str(exc))
        return status is not None and status.group(1) in ("502", "503", "504")
    return False


def answered(exc: BaseException) -> bool:
    """Whether ClickHouse itself answered the failed statement (an error with its code): it
    then did not complete it. Without an answer (the connection reset or timed out, a proxy's
    502/503/504) the statement may have run to the end."""
    from clickhouse_connect.driver.exceptions import DatabaseError

    return isinstance(exc, DatabaseError) and getattr(exc, "code", None) is not None


# Asked before an insert whose last attempt had no answer is sent again: whether ClickHouse
# holds it already (see ClickHouseSink.write).
Landed = Callable[[], Awaitable[bool]]


class Sink(Protocol):
    """Anything a batch of rows can be written to."""

    async def write(self, batch: Batch, landed: Landed | None = None) -> int: ...


@dataclass(frozen=True)
class Batch:
    """Rows for one table, column by column, with the token that makes re-inserting them
    harmless. ``types`` names each column's type as sent (no per-insert DESCRIBE; a
    LowCardinality column may be sent as String: the server converts it). ``native`` is the
    whole insert (the INSERT statement, then the rows in ClickHouse's Native format:
    :func:`facts_insert`; or its pieces, in order: :func:`joined`), ``data`` then empty: the
    insert and every retry send those bytes."""

    table: str
    columns: Sequence[str]
    data: Sequence[Sequence[Any]]  # one sequence of values per column
    token: str
    types: Sequence[str]
    native: bytes | tuple[bytes | memoryview, ...] | None = None
    rows: int = -1

    @property
    def size(self) -> int:
        """How many rows."""
        if self.rows >= 0:
            return self.rows
        return len(self.data[0]) if self.data else 0


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
        # Every view groups its rows already, and every reader sums (rollups) or takes the
        # max (progress) across parts: merging the block's rows again on insert found nothing
        # to merge and took 14% of ClickHouse's CPU during a backfill (2026-12-06).
        "optimize_on_insert": 0,
    }
    if batch.native is not None:  # no table: the INSERT statement is part of it (facts_insert())
        body = batch.native
        streamed = body if isinstance(body, bytes) else _streamed(body)  # afresh each attempt
        client.raw_insert("", None, streamed, settings=settings)
        return
    client.insert(
        batch.table,
        batch.data,
        column_names=list(batch.columns),
        column_type_names=list(batch.types),
        column_oriented=True,
        settings=settings,
    )


def _streamed(pieces: Sequence[bytes | memoryview]) -> Generator[bytes, None, None]:
    """A joined insert's pieces as a body clickhouse-connect streams (chunked): a memoryview
    goes out as it is, urllib3 writes any buffer."""
    for piece in pieces:
        yield cast(bytes, piece)


def facts_batch(columns: Sequence[Sequence[Any]], token: str) -> Batch:
    """The insert into ``ingest_facts`` of a flush's columns (``aggregate.finish``)."""
    from streams.logic.facts import FACT_TYPES

    return Batch("ingest_facts", tuple(FACT_TYPES), columns, token, tuple(FACT_TYPES.values()))


def facts_insert(facts: Facts, token: str, table: str = "ingest_facts") -> Batch:
    """The insert into ``table`` (``ingest_facts``, or a table of its columns) of ``facts``
    (a flush's: ``aggregate.finish_facts``), in ClickHouse's Native format, written block by
    block (:mod:`streams.sinks.native`): the same rows as ``facts_batch(facts.columns(),
    token)``, without a Python value for each default. Raises TypeError for rows that cannot
    be sent (sending them again cannot help)."""
    from streams.logic.facts import FACT_DEFAULTS, FACT_TYPES

    body = native_insert(table, FACT_TYPES, FACT_DEFAULTS, facts.blocks)
    types = tuple(FACT_TYPES.values())
    return Batch(table, tuple(FACT_TYPES), (), token, types, body, facts.rows)


def joined(batches: Sequence[Batch]) -> Batch:
    """One insert of ``batches`` (Native inserts of the same columns into the same table, as
    :func:`facts_insert` makes them): their blocks one after another, under one token naming
    each batch's, sent as they are (no copy: ``native`` is then the pieces of the body).
    ClickHouse squashes an insert's blocks into one before its views run, so each view writes
    one part for all of them (what an insert costs ClickHouse hardly depends on its size: see
    ``streams.agents.interactions.INSERT_RECORDS``). Raises ValueError for batches that are
    not such inserts."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0]
    header = native_header(first.table, first.columns)
    pieces: list[bytes | memoryview] = [header]
    for batch in batches:
        body = batch.native
        if (
            not isinstance(body, bytes)
            or batch.table != first.table
            or tuple(batch.columns) != tuple(first.columns)
            or not body.startswith(header)
        ):
            raise ValueError(
                f"only Native inserts into {first.table} of the same columns can be joined; "
                f"batch {batch.token} is not one"
            )
        pieces.append(memoryview(body)[len(header) :])
    return Batch(
        first.table,
        first.columns,
        (),
        "+".join(b.token for b in batches),
        first.types,
        tuple(pieces),
        sum(b.size for b in batches),
    )


class ClickHouseSink:
    """Writes batches through a clickhouse-connect client, in a thread, retrying forever."""

    def __init__(
        self,
        client_factory: Callable[[], Client],
        *,
        max_backoff: float = 5.0,
    ) -> None:
        self._client_factory = client_factory
        self._client: Client | None = None
        self._max_backoff = max_backoff
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
                    raise PermanentSinkError(
                        f"ClickHouse refused a query: {first_line(exc, 200)}"
                    ) from exc
                log.warning(
                    "ClickHouse query failed, retrying in %.1fs: %s", delay, first_line(exc, 200)
                )
                self._client = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)

    async def write(self, batch: Batch, landed: Landed | None = None) -> int:
        """Insert the batch; on failure retry the very same batch until it lands.

        The same batch carries the same token, and each table de-duplicates it among its last
        inserts (its de-duplication window). An attempt without an answer may have landed
        whole; sent again after more newer inserts than the window (other workers and stages
        go on writing the same tables while this one cannot reach ClickHouse), it would be
        stored twice. So before sending again after an attempt without an answer, ``landed``
        (when given) is asked whether ClickHouse holds the batch already: if so, it is not
        sent again.

        Returns how many attempts failed before it landed."""
        if not batch.size:
            return 0
        delay = 0.2
        failures = 0
        unanswered = False
        while True:
            try:
                if unanswered and landed is not None and await landed():
                    log.warning(
                        "insert into %s had no answer, and ClickHouse holds it: batch %s landed "
                        "then, not sent again",
                        batch.table,
                        batch.token,
                    )
                    self.failed_attempts = 0
                    return failures
                await asyncio.to_thread(self._insert, batch)
                if failures:
                    log.warning("ClickHouse reachable again; batch %s written", batch.token)
                self.failed_attempts = 0
                return failures
            except Exception as exc:  # any failure: the batch stays ours and is retried
                if not transient(exc):
                    raise PermanentSinkError(
                        f"ClickHouse refused the insert into {batch.table}: {first_line(exc, 200)}"
                    ) from exc
                failures += 1
                self.failed_attempts += 1
                # Once an attempt went unanswered, it may still land later (a slow server):
                # every resend after it asks first.
                unanswered = unanswered or not answered(exc)
                if failures == 1 or failures % 20 == 0:
                    log.warning(
                        "insert into %s failed (%s attempts), retrying in %.1fs: %s",
                        batch.table,
                        failures,
                        delay,
                        first_line(exc, 200),
                    )
                self._client = None  # a fresh connection after a server restart
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
