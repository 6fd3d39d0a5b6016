"""Data access for the dashboard: one cached client per URL, named queries, cached frames."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st
from clickhouse_connect.driver.client import Client

from dashboard import settings as config
from streams.clickhouse import queries
from streams.clickhouse.client import connect
from streams.errors import first_line

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
        raise DataUnavailable(
            f"ClickHouse did not answer the query {name}: {first_line(exc, 300)}"
        ) from exc
    return sourced(frame, name, params)


SOURCE = "journey_source"


def sourced(frame: pd.DataFrame, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """``frame`` labelled with where it came from and when (kept in the cache with it): what
    every reader of the same cached answer shares, so derived work can be keyed on it cheaply
    (see ``context.chart``)."""
    frame.attrs[SOURCE] = f"{name}|{sorted(params.items())!r}|{time.time_ns()}"
    return frame


def source_query(frame: pd.DataFrame) -> str:
    """The named query ``frame``'s answer came from ('' if it was not labelled by
    :func:`sourced`)."""
    return str(frame.attrs.get(SOURCE, "")).split("|", 1)[0]


def fetched_at(frame: pd.DataFrame) -> datetime | None:
    """When ``frame``'s answer was read from ClickHouse (None: it was not, or not by
    :func:`sourced`)."""
    label = str(frame.attrs.get(SOURCE, ""))
    stamp = label.rsplit("|", 1)[-1] if label.count("|") >= 2 else ""
    return datetime.fromtimestamp(int(stamp) / 1e9, UTC) if stamp.isdigit() else None


def _column_names(connection: Client, sql: str, params: dict[str, Any]) -> list[str]:
    """The columns of a query that returned no row: ClickHouse's native format sends no block
    (so no names) for an empty answer, while TSVWithNames always sends its header line."""
    header = connection.raw_query(sql, parameters=params, fmt="TSVWithNames")
    return header.decode().split("\n", 1)[0].split("\t")


def run(name: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run the named query ``name`` with bound ``params``; cached for ``CACHE_TTL_S``."""
    return _run(config.clickhouse_url(), name, params)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _report_table(url: str, params: dict[str, Any], year: int) -> pd.DataFrame:
    from dashboard import report
    from streams.simulate.calibration import Calibration

    cells = report.Cells(
        interactions=_run(url, "report_interaction_cells", params),
        calls=_run(url, "report_call_cells", params),
        reads=_run(url, "report_read_cells", params),
        journeys=_run(url, "report_journey_cells", params),
        messages=_run(url, "report_message_cells", params),
        chatbot=_run(url, "report_chatbot_cells", params),
        conversations=_run(url, "report_conversation_cells", params),
        customers=_run(url, "report_customer_cells", params),
    )
    return sourced(report.report(Calibration.load().figures, cells, year), "report", params)


def report_table(params: dict[str, Any], year: int) -> pd.DataFrame:
    """The Report page's table for ``year`` (``dashboard/report.py`` over the
    ``report_*_cells`` queries), computed once per cache lifetime for every reader."""
    return _report_table(config.clickhouse_url(), params, year)
