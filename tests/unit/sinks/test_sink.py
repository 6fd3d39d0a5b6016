"""The ClickHouse sink's retry rule: wait out an unreachable server, stop on a refused statement."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from streams.errors import ServiceUnreachable
from streams.sinks.clickhouse import Batch, ClickHouseSink, PermanentSinkError, transient

BATCH = Batch("ingest_facts", ("a",), [[1]], "t/0:0-0", ("UInt8",))


class FlakyClient:
    def __init__(self, errors: list[Exception]) -> None:
        self.errors = errors
        self.inserted = 0

    def insert(self, *_: Any, **__: Any) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.inserted += 1

    def query(self, *_: Any, **__: Any) -> Any:
        if self.errors:
            raise self.errors.pop(0)
        return type("R", (), {"result_rows": [(1,)]})()


def test_an_unreachable_server_is_waited_out() -> None:
    client = FlakyClient(
        [OperationalError("connection refused"), DatabaseError("timeout", code=159)]
    )
    sink = ClickHouseSink(lambda: client, max_backoff=0.01)  # type: ignore[arg-type,return-value]
    assert asyncio.run(sink.write(BATCH)) == 2
    assert client.inserted == 1


@pytest.mark.parametrize("code", [184, 60, 47, 62])
def test_a_refused_statement_stops_the_worker_instead_of_retrying_for_ever(code: int) -> None:
    client = FlakyClient([DatabaseError(f"Code: {code}. DB::Exception: nope", code=code)])
    sink = ClickHouseSink(lambda: client, max_backoff=0.01)  # type: ignore[arg-type,return-value]
    with pytest.raises(PermanentSinkError, match="refused the insert into ingest_facts"):
        asyncio.run(sink.write(BATCH))
    client.errors = [DatabaseError("bad query", code=code)]
    with pytest.raises(PermanentSinkError, match="refused a query"):
        asyncio.run(sink.read("SELECT 1"))


def test_transient() -> None:
    assert transient(OperationalError("refused")) and transient(ConnectionError())
    assert transient(DatabaseError("memory limit", code=241))
    assert not transient(DatabaseError("illegal aggregation", code=184))
    # Rows the client cannot serialise: sending the same rows again cannot help.
    assert not transient(AttributeError("'bytes' object has no attribute 'encode'"))
    assert not transient(TypeError("unsupported operand"))
    # Only what passes is retried: an error nobody listed is permanent, not retried for ever.
    assert transient(DatabaseError("too many parts", code=252))
    assert not transient(DatabaseError("cannot parse input", code=27))
    assert not transient(DatabaseError("unknown table", code=60))
    assert not transient(RuntimeError("a bug"))
    # A fresh connection after an outage is made by connect(), which says so in its own way.
    assert transient(ServiceUnreachable("ClickHouse", "127.0.0.1:8123", "Connection refused"))
    # HTTP errors without a ClickHouse code: a proxy's 502/503/504 passes, a 401 does not.
    assert transient(DatabaseError("HTTP driver received HTTP status 503"))
    assert not transient(DatabaseError("HTTP driver received HTTP status 401"))


def _asked(answers: list[bool]) -> tuple[list[bool], Any]:
    asked: list[bool] = []

    async def landed() -> bool:
        asked.append(True)
        return answers.pop(0)

    return asked, landed


def test_an_unanswered_insert_that_landed_is_not_sent_again() -> None:
    """The answer lost (the connection reset after ClickHouse ran the insert): sent again
    after more newer inserts than the tables' de-duplication window, it would count twice."""
    client = FlakyClient([OperationalError("connection reset"), OperationalError("refused")])
    sink = ClickHouseSink(lambda: client, max_backoff=0.01)  # type: ignore[arg-type,return-value]
    asked, landed = _asked([False, True])  # not yet after the first, there after the second
    assert asyncio.run(sink.write(BATCH, landed)) == 2
    assert client.inserted == 0 and len(asked) == 2


def test_an_unanswered_insert_not_held_is_sent_again_and_an_answered_failure_asks_nothing() -> None:
    client = FlakyClient([OperationalError("timed out")])
    sink = ClickHouseSink(lambda: client, max_backoff=0.01)  # type: ignore[arg-type,return-value]
    asked, landed = _asked([False])
    assert asyncio.run(sink.write(BATCH, landed)) == 1
    assert client.inserted == 1 and len(asked) == 1
    # ClickHouse answered the failure (too many parts): it did not run the insert, and the
    # same batch goes again without asking.
    client = FlakyClient([DatabaseError("too many parts", code=252)])
    sink = ClickHouseSink(lambda: client, max_backoff=0.01)  # type: ignore[arg-type,return-value]
    asked, landed = _asked([])
    assert asyncio.run(sink.write(BATCH, landed)) == 1
    assert client.inserted == 1 and not asked
    # A proxy's 503 is no answer from ClickHouse: it may have run the insert.
    client = FlakyClient([DatabaseError("HTTP driver received HTTP status 503")])
    sink = ClickHouseSink(lambda: client, max_backoff=0.01)  # type: ignore[arg-type,return-value]
    asked, landed = _asked([True])
    assert asyncio.run(sink.write(BATCH, landed)) == 1
    assert client.inserted == 0 and asked


def test_after_an_unanswered_attempt_every_resend_asks_first() -> None:
    """An unanswered insert may land after a check said it had not (a slow server): answered
    failures after it do not stop the asking."""
    client = FlakyClient([OperationalError("timed out"), DatabaseError("too many parts", code=252)])
    sink = ClickHouseSink(lambda: client, max_backoff=0.01)  # type: ignore[arg-type,return-value]
    asked, landed = _asked([False, True])
    assert asyncio.run(sink.write(BATCH, landed)) == 2
    assert client.inserted == 0 and len(asked) == 2
