"""Named queries against the embedded ClickHouse, on fixture data whose answers are known.

The fixture goes through the worker's own path (plan_flush -> one insert into ingest_facts ->
the materialised views), so the queries are tested on rollups exactly as the worker writes
them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.settings import Settings
from tests.fixture_events import ALL, Y2019, YEARS, load_fixture, sms
from tests.support import (
    account_url,
    fresh_database,
    run_journey,
    settings_env,
)

pytestmark = pytest.mark.integration


def run(client: Client, name: str, **params: Any) -> list[tuple[Any, ...]]:
    query = queries.load(name)
    return [tuple(r) for r in client.query(query.sql, parameters=params).result_rows]


def test_every_named_query_declares_a_description_and_runs(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    samples = {
        "String": "",
        "DateTime": "2020-01-01 00:00:00",
        "DateTime64(3)": "2020-01-01 00:00:00",
        "UInt32": "10",
    }
    for query in queries.load_all():
        assert query.description
        params = {k: samples[t] for k, t in query.parameters.items()}
        client.query(query.sql, parameters=params)


# The two rollups split by a bucket (call duration, read latency), and their projections
# (migration 0013), and the customers rollup split by channel, kind and reason, and its
# projections (migration 0015): every question of theirs must read a projection, never the
# table itself (ten to sixty times the rows at scale: `make bench-queries`).
PROJECTED = ("rollup_messaging_daily", "rollup_calls_daily", "rollup_customers_daily")


def test_named_queries_read_the_largest_rollups_through_projections(
    calibrated: tuple[str, Client],
) -> None:
    _, client = calibrated
    y2021 = {"start": "2021-01-01 00:00:00", "end": "2022-01-01 00:00:00"}
    samples = {**ALL, **y2021, "tenant": "", "compare_start": "2020-01-01 00:00:00"}
    samples["compare_end"] = "2021-01-01 00:00:00"
    samples |= {"leakage_window_h": 24, "repeat_window_h": 168}
    checked = []
    for query in queries.load_all():
        if not any(table in query.sql for table in PROJECTED):
            continue
        params = {k: samples.get(k, "") for k in query.parameters}
        plan = "\n".join(
            row[0]
            for row in client.query(
                "EXPLAIN projections = 1 " + query.sql, parameters=params
            ).result_rows
        )
        reads = [line.strip() for line in plan.splitlines() if "ReadFromMergeTree" in line]
        whole = [line for line in reads if any(table in line for table in PROJECTED)]
        assert not whole, f"{query.name} reads a rollup whole: {whole}"
        read = {p for p in ("by_cell", "by_latency", "by_duration", "by_key") if f"({p})" in plan}
        assert read, query.name
        checked.append(query.name)
        if "keys AS" in query.sql:
            # each key's first day and the period's cells, both from projections
            assert read == {"by_key", "by_cell"}, (query.name, read)
    assert len(checked) >= 21, checked
    assert {"leakage_rate", "repeat_contact_rate", "report_customer_cells"} <= set(checked)


def test_overview_kpis(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    y2021 = {"start": "2021-01-01 00:00:00", "end": "2022-01-01 00:00:00"}
    (row,) = run(client, "overview_kpis", **y2021, **ALL)
    # 9 interactions: email 3, phone 3, sms 2, web 1; smart notifications: r1 (2) + t1 sends (2);
    # IVR 30/40/200 s; one read pair, 60 s; journeys r1 (2 channels), r2, f1, t1 (1 each).
    assert row == (9, 1.0, 0.444444, 90.0, 1.0, 1.25)
    (retail,) = run(client, "overview_kpis", **y2021, **(ALL | {"industry": "retail"}))
    assert retail[:3] == (4, 1.0, 0.5)


def test_channel_mix(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "channel_mix", **YEARS, **ALL)
    assert rows == [
        (2020, "sms", 1, 1.0),
        (2021, "email", 3, 0.333333),
        (2021, "phone", 3, 0.333333),
        (2021, "sms", 2, 0.222222),
        (2021, "web", 1, 0.111111),
    ]
    retail = run(client, "channel_mix", **YEARS, **(ALL | {"industry": "retail"}))
    assert retail == [(2021, "email", 3, 0.75), (2021, "web", 1, 0.25)]


def test_use_case_shares(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "use_case_shares", **YEARS, **ALL)
    assert rows == [
        (2020, "smart_notification", 1, 1.0),
        (2021, "smart_notification", 4, 0.444444),
        (2021, "digital_customer_service", 3, 0.333333),
        (2021, "personalized_retention", 2, 0.222222),
    ]


def test_ivr_duration_and_outcomes(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    (month,) = run(client, "ivr_duration_by_month", **YEARS, **ALL)
    assert month[1:] == (3, 90.0, 40, 200)
    assert str(month[0]).startswith("2021-03-01")
    outcomes = run(client, "ivr_outcomes", **YEARS, tenant="", industry="", use_case="")
    assert outcomes == [(2021, "abandoned", 1, 0.333333), (2021, "self_served", 2, 0.666667)]


def test_read_within_three_minutes_and_coverage(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(
        client, "read_within_3_minutes", **YEARS, tenant="", industry="", use_case="", channel=""
    )
    assert rows == [(2020, "sms", 1, 1, 1.0, 0.0), (2021, "sms", 2, 1, 0.5, 1.0)]
    email = dict(tenant="", industry="", use_case="", channel="email")
    assert not run(client, "read_within_3_minutes", **YEARS, **email)
    assert not run(client, "read_signal_coverage", **YEARS, **email)


def test_channels_per_journey(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "channels_per_journey", **YEARS, tenant="", industry="", use_case="")
    assert rows == [
        (2020, "telecom", 1, 1.0),
        (2021, "financial_services", 1, 1.0),
        (2021, "retail", 2, 1.5),
        (2021, "telecom", 1, 1.0),
    ]
    # The industry filter is the query's own (it was the page's, after the query, before).
    retail = run(client, "channels_per_journey", **YEARS, tenant="", industry="retail", use_case="")
    assert retail == [(2021, "retail", 2, 1.5)]


def test_dead_letters_by_reason(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "dead_letters_by_reason", since="2000-01-01 00:00:00")
    assert {(code, n) for code, n, *_ in rows} == {
        ("event:is not JSON", 1),
        ("event:an event is a JSON object, got list", 1),
    }


def test_notification_calls_and_chatbot_handoff(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    calls = run(
        client, "notification_calls_by_purpose", **Y2019, tenant="", industry="", use_case=""
    )
    assert calls == [(2019, "appointment", 2, 45.0), (2019, "delivery", 1, 40.0)]
    bots = run(client, "chatbot_handoff", **Y2019, tenant="", industry="", use_case="", channel="")
    assert bots == [(2019, 3, 1, 0.333333)]
    # Every filter the pages show reaches these queries: none of these sessions was by e-mail.
    assert not run(
        client, "chatbot_handoff", **Y2019, tenant="", industry="", use_case="", channel="email"
    )


def test_read_latency_and_the_signals_it_rests_on(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    latency = run(
        client,
        "read_latency_distribution",
        **YEARS,
        tenant="",
        industry="",
        use_case="",
        channel="",
    )
    assert latency == [(60, 1, 0.5), (300, 1, 0.5)]
    coverage = run(
        client, "read_signal_coverage", **YEARS, tenant="", industry="", use_case="", channel=""
    )
    assert coverage == [
        ("sms", 3, "click_proxy", 1, 0.333333),
        ("sms", 3, "read_receipt", 1, 0.333333),
    ]
    # Read speed by signal, per year: 2020 has one send (m3), clicked after 300 s; 2021 two
    # sends (m1, m2), m1 read by receipt after 60 s.
    speed = run(client, "read_speed_by_signal", **YEARS, **ALL)
    assert speed == [
        (2020, "click_proxy", 1, 1.0, 0.0, 300.0),
        (2021, "read_receipt", 1, 0.5, 1.0, 60.0),
    ]


def test_live_minutes_and_pipeline_freshness(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    live = run(
        client, "live_interactions_per_minute", since=since, tenant="", industry="", use_case=""
    )
    assert [(channel, n, late) for _, channel, n, late in live] == [("web", 1, 0)]
    (fresh,) = run(client, "pipeline_freshness", topic="fixture")
    partition, _flushed, _watermark, lag, events, dead, late = fresh
    assert (partition, lag, events, dead) == (0, -1, 19, 2)
    assert late == 8  # the 2020 and 2019 events came after 2021 ones on the partition


def test_kind_completeness(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    found = run(client, "kind_completeness", **YEARS, **ALL)
    # 2021: four touches, three IVR calls, two sends and a receipt, in order; 2020's send and
    # receipt came after them on the partition: late. The one touch of ten minutes ago is the
    # last day's only interaction (the other kinds' newest minute is the join's default).
    assert [row[:4] for row in found] == [
        ("ivr_call", 3, 0, 0),
        ("message_receipt", 2, 1, 0),
        ("message_sent", 3, 1, 0),
        ("touch", 4, 0, 1),
    ]
    newest = found[3][4]
    ago = datetime.now(UTC).replace(tzinfo=None) - newest
    assert timedelta(minutes=9) <= ago <= timedelta(minutes=12), newest
    retail = run(client, "kind_completeness", **YEARS, **(ALL | {"industry": "retail"}))
    assert [row[:4] for row in retail] == [("touch", 4, 0, 1)]


@pytest.mark.parametrize(
    "hostile",
    ["' OR 1=1 --", "retail'; DROP TABLE interactions; --", "\\' OR ''='", "retail\n--"],
)
def test_filter_values_that_try_sql_injection_are_harmless(
    loaded: tuple[str, Client], hostile: str
) -> None:
    _, client = loaded
    assert run(client, "channel_mix", **YEARS, **(ALL | {"industry": hostile})) == []
    assert int(client.command("SELECT count() FROM interactions")) == 19


def test_journey_sql_command(
    loaded: tuple[str, Client], settings_factory: Callable[..., Settings], tmp_path: Any
) -> None:
    url, _ = loaded
    # As analysts do: the read-only analyst account.
    env = settings_env(settings_factory(clickhouse_url=account_url(url, "analyst")))
    listed = run_journey("sql", "--list", env=env)
    assert listed.returncode == 0 and "channel_mix\n" in listed.stdout
    assert "parameters: start:DateTime" in listed.stdout
    params = [
        "--param",
        "start=2021-01-01 00:00:00",
        "--param",
        "end=2022-01-01 00:00:00",
        "--param",
        "tenant=",
        "--param",
        "industry=retail",
        "--param",
        "use_case=",
    ]
    table = run_journey("sql", "channel_mix", *params, env=env)
    assert table.returncode == 0, table.stderr
    assert "email" in table.stdout and "(2 rows)" in table.stdout
    as_csv = run_journey("sql", "channel_mix", *params, "--format", "csv", env=env)
    assert as_csv.stdout.splitlines()[:2] == [
        "year,channel,interactions,share",
        "2021,email,3,0.75",
    ]
    as_json = run_journey("sql", "channel_mix", *params, "--format", "json", env=env)
    assert json.loads(as_json.stdout.splitlines()[1]) == {
        "year": 2021,
        "channel": "web",
        "interactions": 1,
        "share": 0.25,
    }
    raw = run_journey("sql", "SELECT count() AS n FROM interactions", "--format", "csv", env=env)
    assert raw.stdout == "n\n19\n"
    path = tmp_path / "mine.sql"
    path.write_text("SELECT kind, count() AS n FROM interactions GROUP BY kind ORDER BY kind")
    from_file = run_journey("sql", "--file", str(path), "--format", "csv", env=env)
    assert "ivr_call,3" in from_file.stdout
    missing = run_journey("sql", "channel_mix", "--param", "start=2021-01-01", env=env)
    assert missing.returncode == 1 and "missing --param for end (DateTime)" in missing.stderr
    unknown = run_journey("sql", "channel_mix", *params, "--param", "colour=red", env=env)
    assert unknown.returncode == 1 and "no such parameter" in unknown.stderr
    write = run_journey("sql", "DROP TABLE interactions", env=env)
    assert write.returncode == 1 and "ACCESS_DENIED" in write.stderr
    escape = run_journey("sql", "SELECT * FROM file('/etc/passwd', 'LineAsString')", env=env)
    assert escape.returncode == 1 and "ACCESS_DENIED" in escape.stderr
    assert len(escape.stderr.splitlines()) == 1


def test_analyst_views_sum_the_rollups(loaded: tuple[str, Client]) -> None:
    _, client = loaded

    def one(sql: str) -> tuple[Any, ...]:
        return tuple(client.query(sql).result_rows[0])

    assert one("SELECT sum(interactions) FROM channel_mix_yearly WHERE year = 2021") == (9,)
    assert one(
        "SELECT call_count, mean_duration_s FROM calls_monthly "
        "WHERE kind = 'notification_call' AND purpose = 'delivery'"
    ) == (1, 40.0)
    assert one(
        "SELECT sum(send_count), sum(read_pair_count), sum(read_within_3_min_count) "
        "FROM messaging_monthly"
    ) == (3, 2, 1)
    assert one(
        "SELECT channels_per_journey FROM journeys_yearly "
        "WHERE year = 2021 AND industry = 'retail' AND use_case = 'smart_notification'"
    ) == (2.0,)
    assert one("SELECT session_count, hand_off_rate FROM chatbot_yearly") == (3, 0.333333)


Y2021 = {"start": "2021-01-01 00:00:00", "end": "2022-01-01 00:00:00"}


def test_channel_mix_by_industry(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "channel_mix_by_industry", **YEARS, tenant="", industry="", use_case="")
    assert rows == [
        (2020, "telecom", "sms", 1, 1.0),
        (2021, "financial_services", "phone", 3, 1.0),
        (2021, "retail", "email", 3, 0.75),
        (2021, "retail", "web", 1, 0.25),
        (2021, "telecom", "sms", 2, 1.0),
    ]


def test_channel_mix_shift_against_the_comparison_period(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(
        client,
        "channel_mix_shift",
        **Y2021,
        compare_start="2020-01-01 00:00:00",
        compare_end="2021-01-01 00:00:00",
        tenant="",
        industry="",
        use_case="",
    )
    # 2021: email 3, phone 3, sms 2, web 1 of 9; 2020: sms 1 of 1.
    assert rows == [
        ("email", 3, 0, 0.333333, 0.0, 0.333333),
        ("phone", 3, 0, 0.333333, 0.0, 0.333333),
        ("web", 1, 0, 0.111111, 0.0, 0.111111),
        ("sms", 2, 1, 0.222222, 1.0, -0.777778),
    ]


def test_use_case_channel_mix(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "use_case_channel_mix", **Y2021, tenant="", industry="", use_case="")
    assert rows == [
        ("digital_customer_service", "phone", 3, 1.0),
        ("personalized_retention", "email", 2, 1.0),
        ("smart_notification", "sms", 2, 0.5),
        ("smart_notification", "email", 1, 0.25),
        ("smart_notification", "web", 1, 0.25),
    ]


def test_ivr_duration_by_year(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "ivr_duration_by_year", **YEARS, tenant="", industry="", use_case="")
    assert rows == [(2021, 3, 90.0, 40, 200)]


def test_data_years(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    rows = run(client, "data_years")
    by_year = {year: n for year, n, *_ in rows}
    # 2019: 3 notification calls + 3 chatbot sessions; the recent web event is this year's.
    assert {y: by_year[y] for y in (2019, 2020, 2021)} == {2019: 6, 2020: 1, 2021: 9}
    assert by_year[datetime.now(UTC).year] == 1
    assert rows[0][4].year == datetime.now(UTC).year  # the worker's last flush


def test_report_cells(loaded: tuple[str, Client]) -> None:
    _, client = loaded
    params = {**YEARS, "tenant": ""}
    cells = run(client, "report_interaction_cells", **params)
    assert sum(n for *_, n in cells) == 12  # 2020-2021: 10 interactions and 2 read receipts
    assert (2021, "telecom", "smart_notification", "sms", "message_receipt", 1) in cells
    calls = run(client, "report_call_cells", **params)
    assert calls == [(2021, "financial_services", "ivr_call", 3, 270_000, 0, 0)]  # no 1.1 fields
    reads = run(client, "report_read_cells", **params)
    assert reads == [(2020, "telecom", "sms", 1, 0), (2021, "telecom", "sms", 1, 1)]
    journeys = run(client, "report_journey_cells", **params)
    assert journeys == [
        (2020, "telecom", 1, 1),
        (2021, "financial_services", 1, 1),
        (2021, "retail", 2, 3),
        (2021, "telecom", 1, 1),
    ]


def test_replied_sends_by_purpose(services: dict[str, Any]) -> None:
    """A send and its first reply count once, whether the reply was the message's first read
    signal or came after a click, and whichever of send and reply arrived first."""
    url = f"{services['admin']}/{fresh_database(services)}"
    migrate(url)
    client = connect(url)
    at = "2021-05-01T12:0{}:00Z".format

    def reply(n: int, message: str, minute: int) -> dict[str, Any]:
        return sms(n, "t9", at(minute), message, status="replied", read_signal="reply_proxy")

    load_fixture(
        client,
        [
            sms(1, "t9", at(0), "m1"),  # delivery: clicked at 1, replied at 3, replied again at 4
            sms(2, "t9", at(1), "m1", status="clicked", read_signal="click_proxy"),
            reply(3, "m1", 3),
            reply(4, "m1", 4),
            sms(5, "t9", at(0), "m2"),  # delivery: never replied to
            reply(6, "m3", 2),  # payment: the reply arrives before its send
            {**sms(7, "t9", at(0), "m3"), "purpose": "payment"},
        ],
    )
    assert run(client, "replied_sends_by_purpose", **YEARS, **ALL) == [
        (2021, "delivery", 2, 1, 0.5, 180.0),
        (2021, "payment", 1, 1, 1.0, 120.0),
    ]
    assert run(client, "replied_sends_by_purpose", **YEARS, **{**ALL, "channel": "email"}) == []
