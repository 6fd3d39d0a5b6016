"""The dashboard's settings, read once per environment rather than on every query.

A page draw runs several named queries; building the settings object (environment and
``.env``) for each one cost a sixth of a draw. The environment of a dashboard process does
not change, except under the test driver, so the settings are kept per value of the variables
they are read from.
"""

from __future__ import annotations

import functools
import os

from streams.clickhouse.local_accounts import url_for
from streams.settings import Settings, load_settings

_PREFIXES = ("JOURNEY_", "CLICKHOUSE_", "KAFKA_", "XDG_")


def settings() -> Settings:
    """The settings for the current environment (built once per distinct environment)."""
    return _settings(_environment())


def clickhouse_url() -> str:
    """The URL the dashboard reads with: its own read-only account (streams/local_accounts)."""
    return _url(_environment())


def _environment() -> tuple[tuple[str, str], ...]:
    """The variables the settings are read from, as a key for the caches below."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_PREFIXES)))


@functools.lru_cache(maxsize=16)
def _settings(environment: tuple[tuple[str, str], ...]) -> Settings:
    return load_settings()


@functools.lru_cache(maxsize=16)
def _url(environment: tuple[tuple[str, str], ...]) -> str:
    return url_for(_settings(environment), "dashboard")
