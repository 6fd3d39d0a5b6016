"""Dashboard sign-in (st.login, OIDC): off by default; when on, nothing of a page runs before a
reader is signed in, the configuration gaps are named, and e-mail domains can be narrowed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from streamlit.testing.v1 import AppTest

from dashboard.signin import allowed, missing_configuration
from tests.support import account_url

pytestmark = pytest.mark.integration

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
AUTH = {
    "redirect_uri": "https://journey.example/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret",
    "client_id": "journey-dashboard",
    "client_secret": "idp-secret",
    "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
}


def run(url: str, monkeypatch: pytest.MonkeyPatch, user: dict[str, Any], **env: str) -> AppTest:
    monkeypatch.setenv("CLICKHOUSE_URL", account_url(url, "dashboard"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = AppTest.from_file(APP, default_timeout=60)
    app.secrets["auth"] = AUTH
    app.user = user
    app.run()
    assert not app.exception, app.exception
    return app


def test_sign_in_is_off_by_default(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JOURNEY_DASHBOARD_AUTH", raising=False)
    app = run(loaded[0], monkeypatch, {})
    assert [t.value for t in app.title] == ["Overview"]
    assert not [b for b in app.button if b.label == "Sign in"]


def test_a_reader_not_signed_in_sees_only_the_sign_in_button(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = run(loaded[0], monkeypatch, {"is_logged_in": False}, JOURNEY_DASHBOARD_AUTH="oidc")
    assert [b.label for b in app.button] == ["Sign in"]
    assert [t.value for t in app.title] == ["Journey telemetry"]
    assert not app.metric and not app.sidebar.selectbox  # no page, no filter, no query


def test_a_signed_in_reader_sees_the_pages_and_can_sign_out(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = {"is_logged_in": True, "email": "cmo@brand.example", "name": "Ada CMO"}
    app = run(loaded[0], monkeypatch, user, JOURNEY_DASHBOARD_AUTH="oidc")
    assert [t.value for t in app.title] == ["Overview"]
    assert "Signed in as Ada CMO" in [c.value for c in app.sidebar.caption]
    assert "Sign out" in [b.label for b in app.sidebar.button]


def test_allowed_domains_keep_other_accounts_out(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = {"is_logged_in": True, "email": "someone@gmail.example"}
    env = {"JOURNEY_DASHBOARD_AUTH": "oidc", "JOURNEY_DASHBOARD_ALLOWED_DOMAINS": "brand.example"}
    app = run(loaded[0], monkeypatch, user, **env)
    assert "is not allowed" in app.error[0].value
    assert not app.title


def test_missing_provider_settings_are_named(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"JOURNEY_DASHBOARD_AUTH": "oidc", "JOURNEY_DASHBOARD_AUTH_PROVIDER": "okta"}
    app = run(loaded[0], monkeypatch, {"is_logged_in": False}, **env)
    assert "auth.okta.client_id" in app.error[0].value
    assert not app.button


def test_configuration_checks() -> None:
    assert missing_configuration({"auth": AUTH}, "") == []
    assert missing_configuration({}, "")[:2] == ["auth.redirect_uri", "auth.cookie_secret"]
    shared = {k: AUTH[k] for k in ("redirect_uri", "cookie_secret")}
    okta = {k: AUTH[k] for k in ("client_id", "client_secret", "server_metadata_url")}
    assert missing_configuration({"auth": {**shared, "okta": okta}}, "okta") == []
    assert allowed("a@Brand.Example", "brand.example, other.example")
    assert not allowed("a@evil.example", "brand.example")
    assert allowed("anyone@anywhere.example", "")
