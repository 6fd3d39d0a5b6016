"""The one reading of CLICKHOUSE_URL: its parts, its checks, its masked and credentialed forms."""

from __future__ import annotations

import pytest

from streams.clickhouse.url import ClickHouseUrl, mask_url


def test_the_parts_with_their_defaults() -> None:
    url = ClickHouseUrl.parse("http://127.0.0.1")
    assert (url.host, url.port, url.database, url.secure) == ("127.0.0.1", 8123, "journey", False)
    assert (url.username, url.password, url.has_credentials, url.is_local) == (
        "default",
        "",
        False,
        True,
    )
    secure = ClickHouseUrl.parse("https://an%40alyst:p%3Ass@CH.example.com/analytics")
    assert (secure.host, secure.port, secure.database) == ("ch.example.com", 8443, "analytics")
    assert (secure.username, secure.password, secure.is_local) == ("an@alyst", "p:ss", False)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tcp://u:hunter2@db:9000/x", "must look like http://user:pass@host:8123/database"),
        ("http:///journey", "host None"),
        ("http://u:hunter2@db:port/x", "port in CLICKHOUSE_URL 'http://u:********@db:port/x'"),
        ("http://db:8123/a-b", "database 'a-b' in CLICKHOUSE_URL is not a plain identifier"),
        ("http://db:8123/a/b", "database 'a/b'"),
    ],
)
def test_what_is_wrong_is_named_and_the_password_never_shown(url: str, says: str) -> None:
    with pytest.raises(ValueError, match="") as raised:
        ClickHouseUrl.parse(url)
    assert says in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_another_account_replaces_the_credentials_and_keeps_the_rest() -> None:
    url = ClickHouseUrl.parse("http://old:pw@127.0.0.1:8124/t_1?x=1")
    assert url.with_account("journey_worker", "a b/c") == (
        "http://journey_worker:a%20b%2Fc@127.0.0.1:8124/t_1?x=1"
    )
    plain = ClickHouseUrl.parse("http://[::1]:8123/journey")
    assert plain.is_local and plain.with_account("u", "p") == "http://u:p@[::1]:8123/journey"
    assert ClickHouseUrl.parse(plain.with_account("u", "p")).password == "p"


def test_masking() -> None:
    assert mask_url("http://u:hunter2@db:8123/journey") == "http://u:********@db:8123/journey"
    assert mask_url("https://u:hunter2@db/journey") == "https://u:********@db/journey"
    assert mask_url("http://127.0.0.1:8123/journey") == "http://127.0.0.1:8123/journey"
    assert ClickHouseUrl.parse("http://u:s@db/j").masked() == "http://u:********@db/j"
