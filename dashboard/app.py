"""Dashboard entry point: ``streamlit run dashboard/app.py`` (or ``journey dashboard``)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import context, guard, signin
from dashboard import settings as config

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Journey telemetry", layout="wide")
signin.gate(config.settings())  # before anything reads data
refused = guard.refusal()
if refused:
    st.error(refused)
    st.stop()
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "channel_mix.py", title="Channel mix", icon=":material/donut_large:"),
        st.Page(PAGES / "use_cases.py", title="Use cases", icon=":material/category:"),
        st.Page(PAGES / "voice.py", title="Voice", icon=":material/call:"),
        st.Page(PAGES / "messaging.py", title="Messaging", icon=":material/sms:"),
        st.Page(PAGES / "journeys.py", title="Journeys", icon=":material/route:"),
        st.Page(PAGES / "live.py", title="Live", icon=":material/monitoring:"),
        st.Page(PAGES / "report.py", title="Report", icon=":material/fact_check:"),
    ]
)
# The filters are drawn here, before the page, so the reader's choice survives page changes.
context.prepare()
navigation.run()
