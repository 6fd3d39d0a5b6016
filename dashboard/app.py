"""Dashboard entry point: ``streamlit run dashboard/app.py`` (or ``journey dashboard``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Journey telemetry", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "live.py", title="Live", icon=":material/monitoring:"),
    ]
)
navigation.run()
