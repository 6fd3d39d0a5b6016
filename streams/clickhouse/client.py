"""Connecting to ClickHouse over HTTP from one URL, the same way for every process.

``CLICKHOUSE_URL`` (``http://user:pass@host:8123/database``) names the server and the
database; the embedded server and a real one are reached identically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from streams.clickhouse.url import ClickHouseUrl, mask_url
from streams.errors import JourneyError, ServiceUnreachable, first_line

# The SQL ships inside the package (package data): an installed wheel finds it too.
SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


def parse_url(url: str) -> ClickHouseUrl:
    """``url``'s parts (:class:`ClickHouseUrl`); a JourneyError, one readable line, if it is
    not a ClickHouse URL."""
    try:
        return ClickHouseUrl.parse(url)
    except ValueError as exc:
        raise JourneyError(str(exc)) from None


def connect(url: str, *, database: str | None = None, **settings: Any) -> Client:
    """An HTTP client for ``url``; ``database=""`` connects without selecting one.

    Raises ServiceUnreachable (one readable line) when the server does not answer.
    """
    target = parse_url(url)
    try:
        return clickhouse_connect.get_client(
            host=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            database=target.database if database is None else database,
            secure=target.secure,
            connect_timeout=5,
            send_receive_timeout=120,
            # One client per process; the HTTP session must not be shared across processes.
            autogenerate_session_id=False,
            settings=settings or None,
        )
    except ClickHouseError as exc:
        raise ServiceUnreachable("ClickHouse", mask_url(url), _first_line(exc)) from exc
    except OSError as exc:
        raise ServiceUnreachable("ClickHouse", mask_url(url), exc) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # clickhouse-connect wraps urllib3 errors in long messages; the useful part is the cause.
    match = re.search(
        r"(Connection refused|Name or service not known|timed out|"
        r"Authentication failed[^\n]*|UNKNOWN_DATABASE|Database \S+ does not exist)",
        text,
    )
    return match.group(1) if match else first_line(exc)


def read_sql(relative: str) -> str:
    """Text of a file under ``streams/sql/``."""
    return (SQL_DIR / relative).read_text()
