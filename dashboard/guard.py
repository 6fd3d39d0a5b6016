"""The dashboard refuses credentials that can write, unless told otherwise.

Executives' browsers reach the dashboard; a dashboard holding write-capable credentials turns
any flaw in it into a way to change the data. At start (and every five minutes) it asks
ClickHouse what its own session may do
(:func:`streams.clickhouse.access.session_write_privileges`) and stops with the reason when the
answer includes a write, unless ``JOURNEY_DASHBOARD_ALLOW_WRITE=true`` says a write-capable
account is meant. The local embedded server has the read-only ``journey_dashboard`` account
too (streams/clickhouse/local_accounts.py), so nothing sets it by default.
"""

from __future__ import annotations

import streamlit as st

from dashboard import settings as config
from streams.clickhouse.access import session_write_privileges
from streams.clickhouse.url import mask_url


@st.cache_resource(ttl=300, show_spinner=False)
def _write_privileges(url: str) -> list[str]:
    return session_write_privileges(url)


def refusal() -> str | None:
    """Why the dashboard must not run with its credentials, or None when it may."""
    settings = config.settings()
    if settings.dashboard_allow_write:
        return None
    url = config.clickhouse_url()
    try:
        writes = _write_privileges(url)
    except Exception:  # unreachable: the pages say so, and the check runs again next time
        _write_privileges.clear()
        return None
    if not writes:
        return None
    shown = ", ".join(writes[:4]) + (f" and {len(writes) - 4} more" if len(writes) > 4 else "")
    return (
        f"The dashboard refuses to start: the ClickHouse account in {mask_url(url)} can write "
        f"({shown}). Give it a read-only account (journey_dashboard, see streams/sql/access and "
        "README 'Least privilege'), or set JOURNEY_DASHBOARD_ALLOW_WRITE=true if a "
        "write-capable account is really meant."
    )
