"""The one reading of a ``CLICKHOUSE_URL``: ``http(s)://user:password@host:port/database``.

Settings validate it with :meth:`ClickHouseUrl.parse`; the client connects with its parts; the
local stack asks it whether the server is on this machine; local accounts put their own
credentials in it; everything that prints one masks its password with :func:`mask_url`.
Nothing else splits a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from streams.kafka.security import MASK

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
DEFAULT_DATABASE = "journey"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SHAPE = "http://user:pass@host:8123/database"


def mask_url(url: str) -> str:
    """``url`` (any scheme) with its password replaced by asterisks, safe to print and log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=_netloc(parts.username or "", MASK, parts)))


def _netloc(user: str, password: str, parts: SplitResult) -> str:
    """Credentials, then the URL's host and port as written."""
    return f"{user}:{password}@{parts.netloc.rpartition('@')[2]}"


@dataclass(frozen=True)
class ClickHouseUrl:
    """The parts of a ClickHouse URL, checked."""

    text: str
    host: str
    port: int
    username: str
    password: str
    database: str
    secure: bool
    has_credentials: bool

    @classmethod
    def parse(cls, url: str) -> ClickHouseUrl:
        """Split and check ``url``. Raises ValueError, naming what is wrong in the URL with
        its password masked: not http(s), no host, a port that is not a number, or a
        database that is not a plain identifier."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"CLICKHOUSE_URL must look like {SHAPE}, got {mask_url(url)!r} "
                f"(scheme {parts.scheme!r}, host {parts.hostname!r})"
            )
        try:
            explicit_port = parts.port
        except ValueError:
            raise ValueError(
                f"the port in CLICKHOUSE_URL {mask_url(url)!r} is not a number"
            ) from None
        database = parts.path.strip("/") or DEFAULT_DATABASE
        if not IDENTIFIER.fullmatch(database):
            raise ValueError(f"database {database!r} in CLICKHOUSE_URL is not a plain identifier")
        secure = parts.scheme == "https"
        return cls(
            text=url,
            host=parts.hostname,
            port=explicit_port or (8443 if secure else 8123),
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            database=database,
            secure=secure,
            has_credentials=bool(parts.username),
        )

    @property
    def is_local(self) -> bool:
        """Whether the server is on this machine (loopback)."""
        return self.host in LOOPBACK

    def masked(self) -> str:
        """The URL with its password masked."""
        return mask_url(self.text)

    def with_account(self, user: str, password: str) -> str:
        """The same URL with ``user:password`` as its credentials (any others replaced)."""
        parts = urlsplit(self.text)
        netloc = _netloc(quote(user, safe=""), quote(password, safe=""), parts)
        return urlunsplit(parts._replace(netloc=netloc))
