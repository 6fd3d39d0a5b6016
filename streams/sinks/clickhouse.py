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
from dataclasses import dataclass
from typing import Any, Protocol

from clickhouse_connect.driver.client import Client

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Anything a batch of rows can be written to."""

    async def write(self, batch: Batch) -> None: ...


@dataclass(frozen=True)
class Batch:
    """Rows for one table, with the token that makes re-inserting them harmless."""

    table: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    token: str


def batch_token(topic: str, ranges: dict[int, tuple[int, int]]) -> str:
    """``topic/p:first-last,...``: the offsets a batch covers, in partition order."""
    parts = ",".join(f"{p}:{lo}-{hi}" for p, (lo, hi) in sorted(ranges.items()))
    return f"{topic}/{parts}"


class ClickHouseSink:
    """Writes batches through a clickhouse-connect client, in a thread, retrying forever."""

    def __init__(self, client_factory: Callable[[], Client], *, max_backoff: float = 5.0) -> None:
        self._client_factory = client_factory
        self._client: Client | None = None
        self._max_backoff = max_backoff
        self.failed_attempts = 0

    def _client_now(self) -> Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def _insert(self, batch: Batch) -> None:
        self._client_now().insert(
            batch.table,
            batch.rows,
            column_names=list(batch.columns),
            settings={"insert_deduplication_token": batch.token},
        )

    def query_rows(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run a read query (blocking); used at start and on rebalance, not per record."""
        result = self._client_now().query(sql, parameters=parameters)
        return [tuple(row) for row in result.result_rows]

    async def write(self, batch: Batch) -> None:
        """Insert the batch; on failure retry the very same batch until it lands."""
        if not batch.rows:
            return
        delay = 0.2
        while True:
            try:
                await asyncio.to_thread(self._insert, batch)
                if self.failed_attempts:
                    log.warning("ClickHouse reachable again; batch %s written", batch.token)
                self.failed_attempts = 0
                return
            except Exception as exc:  # any failure: the batch stays ours and is retried
                self.failed_attempts += 1
                if self.failed_attempts == 1 or self.failed_attempts % 20 == 0:
                    log.warning(
                        "insert into %s failed (%s attempts), retrying in %.1fs: %s",
                        batch.table,
                        self.failed_attempts,
                        delay,
                        str(exc).strip().splitlines()[0][:200],
                    )
                self._client = None  # a fresh connection after a server restart
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
