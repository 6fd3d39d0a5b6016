"""Data access for the dashboard: one cached client per URL, named queries, cached frames."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from clickhouse_connect.driver.client import Client

from streams import queries
from streams.clickhouse import connect
from streams.local_accounts import url_for
from streams.settings import load_settings

CACHE_TTL_S = 10


class DataUnavailable(Exception):
    """ClickHouse could not answer; the message is shown to the reader as it is."""


@st.cache_resource(show_spinner=False)
def client(url: str) -> Client:
    """One ClickHouse client per dashboard process and URL."""
    return connect(url)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _run(url: str, name: str, params: dict[str, Any]) -> pd.DataFrame:
    query = queries.load(name)
    try:
        frame: pd.DataFrame = client(url).query_df(query.sql, parameters=params)
        if frame.empty and not len(frame.columns):
            frame = pd.DataFrame(columns=_column_names(client(url), query.sql, params))
    except Exception as exc:
        client.clear()  # reconnect next time: the server may have restarted
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else repr(exc)
        raise DataUnavailable(f"ClickHouse did not answer the query {name}: {reason}") from exc
    return frame


def _column_names(connection: Client, sql: str, params: dict[str, Any]) -> list[str]:
    """The columns of a query that returned no row: ClickHouse's native format sends no block
    (so no names) for an empty answer, while TSVWithNames always sends its header line."""
    header = connection.raw_query(sql, parameters=params, fmt="TSVWithNames")
    return header.decode().split("\n", 1)[0].split("\t")


def run(name: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run the named query ``name`` with bound ``params``; cached for ``CACHE_TTL_S``."""
    return _run(url_for(load_settings(), "dashboard"), name, params)
