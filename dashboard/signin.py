"""Sign-in for the dashboard: Streamlit's OpenID Connect login (``st.login``), when configured.

``JOURNEY_DASHBOARD_AUTH=oidc`` turns it on (the production manifests do; locally it is off).
The identity provider is configured where Streamlit reads it, the ``[auth]`` section of
``.streamlit/secrets.toml`` (``redirect_uri``, ``cookie_secret``, ``client_id``,
``client_secret``, ``server_metadata_url``), or ``[auth.<provider>]`` with
``JOURNEY_DASHBOARD_AUTH_PROVIDER``. ``JOURNEY_DASHBOARD_ALLOWED_DOMAINS`` narrows who may come
in to some e-mail domains. Nothing of a page runs, and no query reaches ClickHouse, before a
reader is signed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from streams.settings import Settings

SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def missing_configuration(secrets: Mapping[str, Any], provider: str) -> list[str]:
    """The secrets.toml keys sign-in needs and does not find, as ``section.key``."""
    auth = secrets.get("auth")
    if not isinstance(auth, Mapping):
        return [f"auth.{key}" for key in SHARED_KEYS + PROVIDER_KEYS]
    missing = [f"auth.{key}" for key in SHARED_KEYS if not auth.get(key)]
    section, name = (auth.get(provider), f"auth.{provider}") if provider else (auth, "auth")
    if not isinstance(section, Mapping):
        return [*missing, *(f"{name}.{key}" for key in PROVIDER_KEYS)]
    return missing + [f"{name}.{key}" for key in PROVIDER_KEYS if not section.get(key)]


def allowed(email: str, domains: str) -> bool:
    """Whether ``email`` is in one of the comma-separated ``domains`` (all, if none given)."""
    wanted = {d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip()}
    return not wanted or email.rpartition("@")[2].lower() in wanted


def _secrets() -> Mapping[str, Any]:
    try:
        return {key: st.secrets[key] for key in st.secrets}
    except FileNotFoundError:  # no secrets.toml at all
        return {}


def gate(settings: Settings) -> None:
    """Stop the run unless sign-in is off or the reader is signed in and allowed."""
    if settings.dashboard_auth == "none":
        return
    provider = settings.dashboard_auth_provider
    missing = missing_configuration(_secrets(), provider)
    if missing:
        st.error(
            "Sign-in is on (JOURNEY_DASHBOARD_AUTH=oidc) but .streamlit/secrets.toml lacks "
            f"{', '.join(missing)}. See README, 'Dashboard sign-in'."
        )
        st.stop()
    login_args = (provider,) if provider else ()
    if not st.user.is_logged_in:
        st.title("Journey telemetry")
        st.write("Sign in with your company account to see the dashboard.")
        st.button("Sign in", type="primary", on_click=st.login, args=login_args)
        st.stop()
    email = str(st.user.get("email") or "")
    if not allowed(email, settings.dashboard_allowed_domains):
        st.error(f"{email or 'This account'} is not allowed to see this dashboard.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as {st.user.get('name') or email}")
        st.button("Sign out", on_click=st.logout, key="journey_sign_out")
