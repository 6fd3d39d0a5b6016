"""Every dashboard page, driven through the entry point by AppTest on the named-query fixture.

The fixture's years are 2019, 2020, 2021 and today's one recent event, so the default period is
2021 (the latest full year holding data), compared with 2020 on the same weekdays.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from clickhouse_connect.driver.client import Client
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from streams.clickhouse.migrations import migrate
from streams.settings import Settings
from tests.support import account_url, free_port

pytestmark = pytest.mark.integration
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PAGES = ("overview", "channel_mix", "use_cases", "voice", "messaging", "journeys", "report")


def open_page(
    url: str,
    page: str,
    monkeypatch: pytest.MonkeyPatch,
    on_switch: Callable[[], None] = lambda: None,
    **state: Any,
) -> AppTest:
    """The app at ``page``; ``state`` sets filter widgets by key before the first run, which
    draws the default page (Overview); ``on_switch`` runs before the switch to ``page``."""
    monkeypatch.setenv("CLICKHOUSE_URL", account_url(url, "dashboard"))
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    if page != "overview":  # the default page; AppTest drops the sidebar on a switch
        on_switch()
        app.switch_page(f"pages/{page}.py").run()
    return app


def chart_frames(app: AppTest) -> list[pd.DataFrame]:
    """The data behind every Altair chart on the page, in page order."""
    frames = []
    for chart in app.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frames.append(dataframe_util.convert_arrow_bytes_to_pandas_df(dataset.data.data))
    return frames


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in frame[list(columns)].itertuples(index=False)]


def download_labels(app: AppTest) -> list[str]:
    return [d.proto.label for d in app.get("download_button")]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_draws_says_how_fresh_and_offers_csv(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
    page: str,
) -> None:
    app = open_page(loaded[0], page, monkeypatch)
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    freshness = app.caption[0].value
    assert "last updated" in freshness and "Showing 2021-01-01 to 2021-12-31" in freshness
    assert "compared with 2019-12-27 to 2020-12-25" in freshness
    assert download_labels(app), "every page offers its figures as CSV"
    assert all("with the filters" in label for label in download_labels(app))


def test_channel_mix_page(loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(loaded[0], "channel_mix", monkeypatch)
    by_industry, shift = chart_frames(app)
    assert rows(by_industry, "year", "industry", "channel", "interactions") == [
        (2020, "telecom", "sms", 1),
        (2021, "financial_services", "phone", 3),
        (2021, "retail", "email", 3),
        (2021, "retail", "web", 1),
        (2021, "telecom", "sms", 2),
    ]
    assert rows(shift, "channel", "share_shift") == [
        ("email", 0.333333),
        ("phone", 0.333333),
        ("web", 0.111111),
        ("sms", -0.777778),
    ]
    assert any("carry 100.0%" in c.value for c in app.caption)


def test_use_cases_page(loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(loaded[0], "use_cases", monkeypatch)
    shares, mix = chart_frames(app)
    assert (2021, "smart_notification", 4) in rows(shares, "year", "use_case", "interactions")
    assert rows(mix[mix["use_case"] == "smart_notification"], "channel", "share") == [
        ("sms", 0.5),
        ("email", 0.25),
        ("web", 0.25),
    ]


def test_voice_page(loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(loaded[0], "voice", monkeypatch)
    assert [(m.label, m.value) for m in app.metric] == [
        # the period's mean and calls, each with its change (no IVR call in the comparison)
        ("IVR mean call duration", "90.0 s"),
        ("IVR calls", "3"),
        # IVR escape: the fixture's calls are contract 1.0's: none asks, none says how it left
        ("Asked for a person", "0.0%"),
        ("Trapped callers", "0.0%"),
        ("Trapped, of those asking", "n/a"),
        ("IVR calls with 1.1 fields", "0.0%"),
    ]
    durations, outcomes, escape = chart_frames(app)
    assert rows(escape, "year", "measure", "share") == [
        ("2021", "asked for a person", 0.0),
        ("2021", "trapped (of all calls)", 0.0),
    ]
    assert set(rows(durations, "measure", "seconds")) == {
        ("mean", 90.0),
        ("p50 (bin)", 40.0),
        ("p90 (bin)", 200.0),
    }
    assert rows(outcomes, "outcome", "calls") == [("abandoned", 1), ("self_served", 2)]
    assert [i.value for i in app.info] == ["No notification call in this period for these filters."]


def test_messaging_page(loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(loaded[0], "messaging", monkeypatch)
    volume, read_fast, latency, coverage, by_signal, replies = chart_frames(app)
    assert rows(by_signal, "year", "read_signal", "read_within_3_min_share") == [
        (2020, "click_proxy", 0.0),
        (2021, "read_receipt", 1.0),
    ]
    # delivery: 2 sends in 2021, a read receipt but no delivery receipt; no failure to chart
    cards = {m.label: m.value for m in app.metric}
    assert (cards["Delivery rate"], cards["Failed"], cards["Answerable sends"]) == (
        "0.0%",
        "0.00%",
        "0.0%",
    )
    assert "No failed or undelivered message in this period." in [i.value for i in app.info]
    assert rows(volume, "year", "channel", "sends") == [(2020, "sms", 1), (2021, "sms", 2)]
    assert rows(read_fast, "year", "read_within_3_min_share") == [(2020, 0.0), (2021, 1.0)]
    assert rows(latency, "latency_bin_s", "read_pairs") == [(60, 1)]
    assert rows(coverage, "channel", "read_signal", "share_of_sends") == [
        ("sms", "read_receipt", 0.5)
    ]
    # The page fixture holds sends but no reply (EVERY_TABLE adds one, for the views' tests).
    assert rows(replies, "year", "purpose", "sends", "replied_sends") == [
        (2020, "delivery", 1, 0),
        (2021, "delivery", 2, 0),
    ]


def test_journeys_page(loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(loaded[0], "journeys", monkeypatch)
    journeys, leakage, repeats = chart_frames(app)
    assert (2021, "retail", 1.5) in rows(journeys, "year", "industry", "channels_per_journey")
    # Across journeys: the fixture's customer made three IVR calls on March 7, 8 and 9, 2021,
    # and no web visit: the 8th repeats the 7th, the 9th the 8th.
    assert rows(leakage, "year", "measure", "share") == [
        ("2021", "calls and chats after a web visit", 0.0)
    ]
    assert rows(repeats, "year", "measure", "share") == [("2021", "repeat contacts", 2 / 3)]
    cards = {m.label: m.value for m in app.metric}
    assert cards["Repeat contacts"] == cards["Contacts followed by another"] == "66.7%"
    assert cards["Web visits followed by a call or chat"] == "n/a"
    assert [i.value for i in app.info] == [
        "No chatbot session in this period.",  # hand-off
        "No chatbot session in this period.",  # containment
        "No customer opened a conversation on social media or chat in this period.",
    ]


def test_report_page(loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(loaded[0], "report", monkeypatch)
    table = app.table[0].value
    assert len(table) == 32
    ivr = table.loc["CSG 2022: average IVR call 0:35 in 2021"]
    assert (ivr["published"], ivr["measured"], ivr["status"]) == ("35.0 s", "90.0 s", "differs")
    top4 = table.loc["CSG 2022: more than 90% of interactions happen on four channels"]
    assert (top4["measured"], top4["status"]) == ("100.0%", "as published")
    assert [m.value for m in app.metric] == ["1 of 32", "7 of 32"]
    # No customers stage counts in this store: Medallia's figures have nothing to divide by.
    leak = table.loc[table.index.str.startswith("Medallia: 58% of travel bookers")]
    assert list(leak["measured"]) == ["no data"]
    # Nine interactions cannot tell 44% from more than half: the margin says so.
    half = table.loc["CSG 2022: smart notifications are more than half of all 2021 interactions"]
    assert (half["measured"], half["margin"], half["status"]) == (
        "44.4%",
        "± 41.5 pts",
        "within sampling error",
    )
    # Measured on 2020 instead: the 2020 IVR figure has no calls to measure.
    app.selectbox[-1].set_value(2020).run()
    table = app.table[0].value
    assert table.loc["CSG 2022: average IVR call 1:43 in 2020", "measured"] == "no data"


def test_sidebar_filters_apply_to_the_page(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # AppTest (Streamlit 1.67) loses the entry point's sidebar on a rerun, so filters are set
    # through their widget keys; the browser test uses the real sidebar.
    app = open_page(loaded[0], "overview", monkeypatch, filter_industry="retail")
    assert app.metric[0].value == "4"
    app = open_page(loaded[0], "channel_mix", monkeypatch, filter_industry="retail")
    by_industry, _ = chart_frames(app)
    assert set(by_industry["industry"]) == {"retail"}
    assert "industry Retail" in app.caption[0].value


# Every filter set at once: each query must take each one, or the page must say it does not.
CHOSEN = {"tenant": "acme", "industry": "retail", "use_case": "personalized_onboarding",
          "channel": "email"}  # fmt: skip
# Figures of the pipeline itself, not of interactions: the data's span, lost records,
# freshness per partition, dead letters (a record that broke the contract has no tenant the
# product can trust). The pages say so where they show them.
# What every page asks before the filters apply (the data's span, its tenants, the losses), and
# the pipeline's own state on Live.
PIPELINE_QUERIES = {
    "data_years", "tenants", "lost_offsets", "pipeline_freshness", "dead_letters_by_reason",
}  # fmt: skip


@pytest.mark.parametrize("page", (*PAGES, "live"))
def test_every_filter_reaches_every_query_or_the_page_says_it_does_not_apply(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
    page: str,
) -> None:
    from dashboard import data
    from dashboard.context import FILTER_LABELS, UNDECLARED
    from streams.clickhouse import queries

    calls: list[tuple[str, dict[str, Any]]] = []
    real = data.run

    def spy(name: str, params: dict[str, Any]) -> pd.DataFrame:
        calls.append((name, dict(params)))
        return real(name, params)

    monkeypatch.setattr(data, "run", spy)
    # Only the page's own queries: Overview's ran first, under its own captions.
    app = open_page(
        loaded[0], page, monkeypatch, calls.clear, **{f"filter_{k}": v for k, v in CHOSEN.items()}
    )
    assert not app.exception, app.exception
    captions = [c.value for c in app.caption]
    ran = [(name, params) for name, params in calls if name not in PIPELINE_QUERIES]
    assert ran or page == "report", calls
    for name, params in ran:
        taken = queries.load(name).parameters
        for key, value in CHOSEN.items():
            if key in taken:
                assert params.get(key) == value, (page, name, key, params)
            else:
                said = f"Not filtered by {FILTER_LABELS[key]} ({value})"
                assert any(said in c for c in captions), (page, name, key, captions)
    # Each with its reason: a query that could take a filter takes it.
    assert not [c for c in captions if UNDECLARED in c], captions
    if page == "report":  # its table is per finding: the page says which filter applies
        assert any("Tenant filter applies" in c for c in captions), captions


def test_the_tenant_is_chosen_from_the_data(
    loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = loaded
    app = open_page(url, "overview", monkeypatch)
    (tenant,) = [box for box in app.selectbox if box.label == "Tenant"]
    assert tenant.options == ["all", "acme"]  # the fixture's one tenant
    app = open_page(url, "overview", monkeypatch, filter_tenant="acme")
    assert app.metric[0].value == "9"


@pytest.mark.parametrize("hostile", ["x' OR 1=1 --", "acme'; DROP TABLE interactions; --"])
def test_a_tenant_the_data_does_not_hold_falls_back_to_all_and_breaks_nothing(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
    hostile: str,
) -> None:
    url, client = loaded
    app = open_page(url, "overview", monkeypatch, filter_tenant=hostile)
    assert not app.exception, app.exception
    assert app.metric[0].value == "9"  # all tenants: the 2021 interactions of the fixture
    app = open_page(url, "channel_mix", monkeypatch, filter_tenant=hostile)
    assert not app.exception, app.exception
    assert int(client.command("SELECT count() FROM interactions")) == 19


@pytest.mark.parametrize("page", PAGES)
def test_pages_explain_an_unreachable_store(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    app = open_page(f"http://127.0.0.1:{free_port()}/journey", page, monkeypatch)
    assert not app.exception, app.exception
    assert any("unreachable" in e.value for e in app.error)


def test_pages_explain_an_empty_store(
    settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = settings_factory().clickhouse_url.get_secret_value()
    migrate(url)
    for page in PAGES:
        app = open_page(url, page, monkeypatch)
        assert not app.exception, (page, app.exception)
        assert any("No interactions yet" in i.value for i in app.info), page


def test_an_empty_answer_keeps_its_columns(
    loaded: tuple[str, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dashboard import data

    monkeypatch.setenv("CLICKHOUSE_URL", account_url(loaded[0], "dashboard"))
    params = {"start": "2021-01-01 00:00:00", "end": "2022-01-01 00:00:00", "tenant": "nobody"}
    frame = data.run("channel_mix", params | {"industry": "", "use_case": ""})
    assert frame.empty
    assert list(frame.columns) == ["year", "channel", "interactions", "share"]


def test_a_page_says_how_complete_its_period_is(
    loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    def completeness(app: AppTest) -> list[str]:
        return [c.value for c in app.caption if c.value.startswith("Completeness: ")]

    # 2021: nine interactions, none late; the fixture's rejected records came this week
    assert completeness(open_page(loaded[0], "voice", monkeypatch)) == [
        "Completeness: 0 of the period's 9 interactions arrived late (0.00%), applied all the "
        "same; 0 records were rejected while it ran (dead letters, of any tenant: Live lists "
        "them by reason)."
    ]
    today = datetime.now(UTC).date()
    recent = open_page(
        loaded[0], "voice", monkeypatch, filter_start=today - timedelta(days=7), filter_end=today
    )
    assert not recent.exception, recent.exception
    (line,) = completeness(recent)
    rejected = int(client_count(loaded[1], "SELECT count() FROM dead_letters"))
    assert rejected > 0 and f"; {rejected:,} records were rejected while it ran" in line


def client_count(client: Client, sql: str) -> int:
    return int(client.command(sql))


def test_every_figure_says_when_it_was_read_and_how_many_came_late(
    loaded: tuple[str, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    def notes(app: AppTest) -> list[str]:
        return [c.value for c in app.caption if c.value.startswith("As of ")]

    voice = notes(open_page(loaded[0], "voice", monkeypatch))
    # the IVR cards, the duration chart, outcomes, escape cards and chart: 2021's three calls
    assert len(voice) == 5, voice
    assert all(
        n.endswith(": 3 interactions (IVR call) in the period, 0 of them arrived late (0.00%), "
                   "applied all the same.") for n in voice
    ), voice  # fmt: skip
    read = datetime.strptime(voice[0][len("As of ") :].split(" UTC")[0], "%Y-%m-%d %H:%M:%S")
    assert abs(datetime.now(UTC).replace(tzinfo=None) - read) < timedelta(minutes=2)
    messaging = notes(open_page(loaded[0], "messaging", monkeypatch, filter_start=date2020()))
    # 2020-2021: three sends and two receipts, 2020's pair late
    assert any(": 5 interactions (Message sent and Message receipt) in the period, 2 of them "
               "arrived late (40.00%)" in n for n in messaging), messaging  # fmt: skip


def date2020() -> Any:
    return datetime(2020, 1, 1).date()


def test_a_figure_whose_kind_stopped_arriving_says_so(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from streams.clickhouse.client import connect
    from tests.fixture_events import FIXTURE, load_fixture
    from tests.support import fresh_database

    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    client = connect(url)
    load_fixture(client, FIXTURE)
    # IVR calls arrived every minute for most of the last day, then stopped three hours ago
    client.command(
        "INSERT INTO rollup_interactions_minute (minute, tenant, industry, use_case, channel, "
        "kind, interactions, late) SELECT toStartOfMinute(now() - INTERVAL 3 HOUR) - "
        "INTERVAL number MINUTE, 'fin-1', 'financial_services', 'digital_customer_service', "
        "'phone', 'ivr_call', 1, 0 FROM numbers(1200)"
    )
    today = datetime.now(UTC).date()
    voice = open_page(
        url, "voice", monkeypatch, filter_start=today - timedelta(days=7), filter_end=today
    )
    assert not voice.exception, voice.exception
    quiet = [w.value for w in voice.warning if w.value.startswith("This figure may be short")]
    # once on the page, though every IVR figure rests on the calls; 1,200 a day: one per 72 s
    assert len(quiet) == 1, [w.value for w in voice.warning]
    assert re.search(r"no IVR call for (2 h 59|3 h 0) min \(one every 72 s", quiet[0]), quiet
    # a past period is as complete as it will get: no such warning
    past = open_page(url, "voice", monkeypatch)
    assert not [w.value for w in past.warning if w.value.startswith("This figure may be short")]
