"""Every named query on three years of rollups at 10 billion interactions a year (not a test).

Run: `make bench-queries` (or `python -m tests.bench.bench_queries --browser`).

Starts its own embedded ClickHouse, migrates a database and writes the rollup rows directly
(INSERT ... SELECT over generated days, no events): twelve brands across the calibrated
industries, every (use case, channel, kind) cell the calibration gives them, duration and
read-latency histograms from the calibrated distributions, the last two days per minute for
the Live page, and a week of per-batch health rows. The volume is 10 billion interactions in
the last year, the earlier years scaled down by the calibrated growth.

Then it runs each named query (`streams/sql/queries/*.sql`) as the dashboard does, over HTTP with
clickhouse-connect, for the last full year compared with the one before, once with no filter
and once filtered to one brand, and prints p50/p95 per query (the dashboard's aim: p95 under
50 ms). With `--browser` it also starts the dashboard on that data and times each page until
fully drawn in headless Chromium (aim: under 2 s).

What it does not generate: the raw `interactions` table (terabytes at this volume; the
dashboard reads it only for the newest events of the last hour) and the hourly rollups of the
first stage (kept for analysts' hour-level drill-down; no dashboard query reads them). The
customers stage's rollups are generated hourly and daily, every brand's key rotating in the
middle of the last year.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from clickhouse_connect.driver.client import Client

from streams.clickhouse import queries
from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.logic.buckets import call_bucket, latency_bucket
from streams.simulate.calibration import Calibration
from tests.support import account_url, accounted_clickhouse, free_port

MESSAGING_CHANNELS = ("sms", "messaging", "app_push")
# Twelve brands: the calibrated industries by volume, retail first (CSG).
BRANDS = {
    "retail": 4,
    "financial_services": 2,
    "telecom": 2,
    "insurance": 1,
    "healthcare": 1,
    "travel_hospitality": 1,
    "quick_service_restaurant": 1,
}
PARTITIONS = 12
AIM_QUERY_MS = 50.0  # issue 17
AIM_PAGE_S = 2.0


@dataclass(frozen=True)
class Shape:
    """The generated data's size."""

    last_year: int
    years: int
    per_year: float

    @property
    def first_day(self) -> date:
        return date(self.last_year - self.years + 1, 1, 1)

    @property
    def days(self) -> int:
        return (date(self.last_year + 1, 1, 1) - self.first_day).days


def kinds(channel: str, use_case: str) -> list[str]:
    """The event kinds a channel carries for a use case (receipts are written apart)."""
    if channel == "phone":
        return ["notification_call" if use_case == "smart_notification" else "ivr_call"]
    if channel in MESSAGING_CHANNELS:
        return ["message_sent"]
    if channel == "chat":
        return ["chatbot_session"]
    return ["touch"]


def brands() -> list[tuple[str, str, float]]:
    """(tenant, industry, share of its industry's volume)."""
    return [
        (f"{industry}-{i + 1}", industry, 1 / n) for industry, n in BRANDS.items() for i in range(n)
    ]


def interaction_cells(cal: Calibration, shape: Shape) -> list[dict[str, Any]]:
    """Every (tenant, industry, use case, channel, kind) with its interactions per day in the
    last year and its year-over-year growth."""
    cells = []
    use_cases = cal.section("use_cases")
    per_day = shape.per_year / 365
    for tenant, industry, brand_share in brands():
        for use_case, uc_share in use_cases.items():
            industry_share = cal.industries(use_case).get(industry, 0.0)
            for channel, channel_share in cal.mix(use_case, industry).items():
                volume = per_day * uc_share * industry_share * brand_share * channel_share
                for kind in kinds(channel, use_case):
                    cells.append(
                        {
                            "tenant": tenant,
                            "industry": industry,
                            "use_case": use_case,
                            "channel": channel,
                            "kind": kind,
                            "per_day": volume,
                            "growth": cal.growth(use_case, channel),
                        }
                    )
    return cells


def customer_cells(cal: Calibration, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The customers' own events of the digital customer service cells (web visits, calls,
    chats, inbound e-mails), split by contact reason: what the customers stage counts."""
    reasons = cal.section("contact_reasons")
    own = {
        ("web", "touch"): (1, 0, 0),  # (digital, contact, assisted)
        ("email", "touch"): (0, 1, 0),
        ("phone", "ivr_call"): (0, 1, 1),
        ("chat", "chatbot_session"): (0, 1, 1),
    }
    out = []
    for cell in cells:
        flags = own.get((cell["channel"], cell["kind"]))
        if cell["use_case"] != "digital_customer_service" or flags is None:
            continue
        for reason, share in reasons.items():
            digital, contact, assisted = flags
            out.append(
                cell | {"reason": reason, "per_day": cell["per_day"] * share,
                        "is_digital": digital, "is_contact": contact, "is_assisted": assisted}
            )  # fmt: skip
    return out


def histogram(samples_ms: np.ndarray, bucket: Any) -> list[tuple[int, float, float]]:
    """(bucket lower bound s, share of samples, mean ms in the bucket) for the samples."""
    buckets = np.array([bucket(int(ms)) for ms in samples_ms])
    out = []
    for b in np.unique(buckets):
        inside = samples_ms[buckets == b]
        out.append((int(b), len(inside) / len(samples_ms), float(inside.mean())))
    return out


def call_cells(
    cal: Calibration, cells: list[dict[str, Any]], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Calls per (cell, outcome or purpose, duration bucket) per day, from the calibrated
    gamma distributions of the last year."""
    ivr = cal.section("ivr")
    notif = cal.section("notification_calls")
    shapes: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for outcome, mean_s in ivr["mean_s_2021"].items():
        k = float(ivr["gamma_shape"])
        samples = rng.gamma(k, mean_s / k, 20_000) * 1000
        shapes[("ivr_call", outcome)] = histogram(samples, call_bucket)
    k = float(notif["gamma_shape"])
    samples = rng.gamma(k, float(notif["mean_s_2021"]) / k, 20_000) * 1000
    for purpose in notif["purpose_share"]:
        shapes[("notification_call", purpose)] = histogram(samples, call_bucket)
    out = []
    for cell in cells:
        if cell["kind"] == "ivr_call":
            splits = [(o, "", s) for o, s in ivr["outcome_share_2021"].items()]
        elif cell["kind"] == "notification_call":
            splits = [("", p, s) for p, s in notif["purpose_share"].items()]
        else:
            continue
        for outcome, purpose, share in splits:
            for bucket_s, bucket_share, mean_ms in shapes[(cell["kind"], outcome or purpose)]:
                out.append(
                    cell
                    | {
                        "outcome": outcome,
                        "purpose": purpose,
                        "bucket": bucket_s,
                        "per_day": cell["per_day"] * share * bucket_share,
                        "mean_ms": mean_ms,
                    }
                )
    return out


def messaging_cells(
    cal: Calibration, cells: list[dict[str, Any]], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Sends by purpose, receipts by status and signal, read pairs by purpose, signal and
    latency bucket, per day."""
    m = cal.section("messaging")
    fast = np.minimum(rng.exponential(float(m["fast_read_mean_s"]), 18_000), 179.0)
    slow = 180 + rng.lognormal(math.log(float(m["slow_read_median_s"])), 1.0, 2_000)
    latency = histogram(np.concatenate([fast, slow]) * 1000, latency_bucket)
    within = float(m["read_within_3_min"])
    out = []
    for cell in cells:
        if cell["kind"] != "message_sent":
            continue
        purposes = (
            m["notification_purposes"]
            if cell["use_case"] == "smart_notification"
            else m["other_purposes"]
        )
        signals = m["sms_signal_share"] if cell["channel"] == "sms" else m["messaging_signal_share"]
        sends = cell["per_day"]
        row = {k: cell[k] for k in ("tenant", "industry", "use_case", "channel", "growth")}
        for purpose, share in purposes.items():
            out.append(row | _messaging(purpose=purpose, sends=sends * share))
        out.append(row | _messaging(status="delivered", receipts=sends * m["delivered_share"]))
        for signal, signal_share in signals.items():
            status = {"read_receipt": "read", "click_proxy": "clicked"}.get(signal, "replied")
            out.append(
                row | _messaging(status=status, signal=signal, receipts=sends * signal_share)
            )
            for purpose, share in purposes.items():
                for bucket_s, bucket_share, mean_ms in latency:
                    pairs = sends * signal_share * share * bucket_share
                    out.append(
                        row
                        | _messaging(
                            purpose=purpose,
                            signal=signal,
                            bucket=bucket_s,
                            pairs=pairs,
                            latency_ms=mean_ms,
                            within=within if bucket_s < 180 else 0.0,
                        )
                    )
    return out


def _messaging(
    purpose: str = "",
    status: str = "",
    signal: str = "",
    bucket: int = 0,
    sends: float = 0.0,
    receipts: float = 0.0,
    pairs: float = 0.0,
    latency_ms: float = 0.0,
    within: float = 0.0,
) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "status": status,
        "read_signal": signal,
        "bucket": bucket,
        "sends": sends,
        "receipts": receipts,
        "pairs": pairs,
        "latency_ms": latency_ms,
        # pairs in fast buckets are all within 3 minutes; the share only scales the fast ones
        "within": 1.0 if within else 0.0,
    }


# Day-to-day variation: a season over the year and quieter weekends, the same in every cell.
DAY_FACTOR = (
    "(1 + 0.2 * sin(2 * pi() * toDayOfYear(d) / 365)) "
    "* if(toDayOfWeek(d) >= 6, 0.7, 1.12) "
    "* pow(c.growth, toYear(d) - {last:UInt16})"
)


def generate(client: Client, cal: Calibration, shape: Shape) -> dict[str, int]:
    """Write every rollup the dashboard reads; returns rows per table."""
    rng = np.random.default_rng(7)
    cells = interaction_cells(cal, shape)
    calls = call_cells(cal, cells, rng)
    messaging = messaging_cells(cal, cells, rng)
    days = "(SELECT {first:Date} + number AS d FROM numbers({days:UInt32})) AS days"
    params = {"last": shape.last_year, "first": shape.first_day, "days": shape.days}
    _cells_table(client, "bench_cells", cells)
    _cells_table(client, "bench_calls", calls)
    _cells_table(client, "bench_messaging", messaging)
    _cells_table(client, "bench_customers", customer_cells(cal, cells))
    # Every brand's pseudonymisation key rotates in the middle of the last year: the leakage
    # and repeat-contact queries' error bar has a rotation to count.
    params["rotated"] = date(shape.last_year, 7, 1)
    statements = {
        "rollup_interactions_daily": f"""
            INSERT INTO rollup_interactions_daily
                (day, tenant, industry, use_case, channel, kind, interactions, late)
            SELECT d, tenant, industry, use_case, channel, kind,
                toUInt64(round(per_day * {DAY_FACTOR})), 0
            FROM bench_cells AS c CROSS JOIN {days}
            UNION ALL
            SELECT d, tenant, industry, use_case, channel, 'message_receipt',
                toUInt64(round(per_day * 1.3 * {DAY_FACTOR})), 0
            FROM bench_cells AS c CROSS JOIN {days} WHERE kind = 'message_sent'""",  # noqa: S608 (constants only; values are bound)
        "rollup_calls_daily": f"""
            INSERT INTO rollup_calls_daily (day, tenant, industry, use_case, kind, outcome,
                purpose, duration_bucket_s, calls, duration_ms, late)
            SELECT d, tenant, industry, use_case, kind, outcome, purpose, bucket,
                toUInt64(round(per_day * {DAY_FACTOR})) AS n, toUInt64(n * mean_ms), 0
            FROM bench_calls AS c CROSS JOIN {days}""",  # noqa: S608 (constants only; values are bound)
        "rollup_messaging_daily": f"""
            INSERT INTO rollup_messaging_daily (day, tenant, industry, use_case, channel, purpose,
                status, read_signal, latency_bucket_s, sends, receipts, read_pairs,
                read_latency_ms, read_within_3_min)
            SELECT d, tenant, industry, use_case, channel, purpose, status, read_signal, bucket,
                toUInt64(round(sends * {DAY_FACTOR})),
                toUInt64(round(receipts * {DAY_FACTOR})),
                toUInt64(round(pairs * {DAY_FACTOR})) AS n,
                toUInt64(n * latency_ms), toUInt64(n * within)
            FROM bench_messaging AS c CROSS JOIN {days}""",  # noqa: S608 (constants only; values are bound)
        "rollup_journeys_daily": f"""
            INSERT INTO rollup_journeys_daily (day, tenant, industry, use_case, journeys, channels)
            SELECT d, tenant, industry, use_case,
                toUInt64(round(sum(per_day) / 3 * {DAY_FACTOR.replace("c.growth", "1.5")})) AS j,
                toUInt64(j * 2.4)
            FROM bench_cells AS c CROSS JOIN {days}
            GROUP BY d, tenant, industry, use_case""",  # noqa: S608 (constants only; values are bound)
        "rollup_chatbot_daily": f"""
            INSERT INTO rollup_chatbot_daily (day, tenant, industry, use_case, channel, sessions,
                handed_off)
            SELECT d, tenant, industry, use_case, channel,
                toUInt64(round(per_day * {DAY_FACTOR})) AS n, toUInt64(n * 0.3)
            FROM bench_cells AS c CROSS JOIN {days} WHERE kind = 'chatbot_session'""",  # noqa: S608 (constants only; values are bound)
        # The customers stage's counts (docs/customer-metrics.md), at shares of ours: 30% of
        # visits leaked, 20% of calls after a visit, 30% of contacts repeats.
        "rollup_customers_hourly": f"""
            INSERT INTO rollup_customers_hourly (hour, tenant, industry, use_case, channel, kind,
                contact_reason, key_id, digital, leaked, contacts, assisted, after_digital,
                reasoned, repeats, reasoned_repeats, same_reason_repeats, followed)
            SELECT toDateTime(d) + toIntervalHour(h), tenant, industry, use_case, channel, kind,
                reason, if(d >= {{rotated:Date}}, 'k2', 'k1'),
                toUInt64(round(n * is_digital)), toUInt64(round(n * is_digital * 0.3)),
                toUInt64(round(n * is_contact)), toUInt64(round(n * is_assisted)),
                toUInt64(round(n * is_assisted * 0.2)), toUInt64(round(n * is_contact)),
                toUInt64(round(n * is_contact * 0.3)), toUInt64(round(n * is_contact * 0.3)),
                toUInt64(round(n * is_contact * 0.066)), toUInt64(round(n * is_contact * 0.3))
            FROM
            (
                SELECT c.*, d, h, c.per_day / 24 * {DAY_FACTOR} AS n
                FROM bench_customers AS c CROSS JOIN {days}
                    CROSS JOIN (SELECT number AS h FROM numbers(24)) AS hours
            )""",  # noqa: S608 (constants only; values are bound)
        "rollup_customers_daily": """
            INSERT INTO rollup_customers_daily
            SELECT toDate(hour), tenant, industry, use_case, channel, kind, contact_reason,
                key_id, sum(digital), sum(leaked), sum(contacts), sum(assisted),
                sum(after_digital), sum(reasoned), sum(repeats), sum(reasoned_repeats),
                sum(same_reason_repeats), sum(followed)
            FROM rollup_customers_hourly
            GROUP BY ALL""",
        "rollup_interactions_minute": """
            INSERT INTO rollup_interactions_minute
                (minute, tenant, industry, use_case, channel, kind, interactions, late)
            SELECT toStartOfMinute(now() - INTERVAL 2 DAY) + INTERVAL m MINUTE,
                tenant, industry, use_case, channel, kind,
                toUInt64(round(per_day / 1440 * (0.8 + 0.4 * rand(m) / 4294967295))), 0
            FROM bench_cells CROSS JOIN (SELECT number AS m FROM numbers(2880)) AS minutes""",
        # One health row per partition per second of flushing, for the 7 days the TTL keeps.
        "pipeline_health": f"""
            INSERT INTO pipeline_health (kafka_topic, kafka_partition, kafka_offset, flushed_at,
                worker, events, dead, duplicates, late_events, lag, watermark)
            SELECT 'journey.interactions.v1', toUInt16(modulo(number, {PARTITIONS})), number,
                now64(3) - toIntervalMillisecond(intDiv(number, {PARTITIONS}) * 1000),
                'bench-worker', 27, 0, 0, 0, 100, now64(3)
            FROM numbers({PARTITIONS * 7 * 86_400})""",  # noqa: S608 (constants only)
        "ingest_progress": f"""
            INSERT INTO ingest_progress (kafka_topic, kafka_partition, kafka_offset, watermark,
                flushed_at)
            SELECT 'journey.interactions.v1', toUInt16(number), 1e9, now64(3), now64(3)
            FROM numbers({PARTITIONS})""",  # noqa: S608 (constants only; values are bound)
    }
    rows = {}
    for table, sql in statements.items():
        started = time.monotonic()
        client.command(sql, parameters=params, settings={"max_partitions_per_insert_block": 0})
        rows[table] = int(client.command(f"SELECT count() FROM {table}"))  # noqa: S608
        print(f"  {table}: {rows[table]:,} rows in {time.monotonic() - started:.1f} s")
    client.command("OPTIMIZE TABLE rollup_interactions_daily FINAL")
    # The projections the queries read instead of the bucketed tables (migration 0013).
    for table, name, n in client.query(
        "SELECT table, name, sum(rows) FROM system.projection_parts "
        "WHERE database = currentDatabase() AND active GROUP BY table, name ORDER BY table, name"
    ).result_rows:
        rows[f"{table}, projection {name}"] = int(n)
    return rows


def _cells_table(client: Client, name: str, cells: list[dict[str, Any]]) -> None:
    columns = list(cells[0])
    types = {
        k: "String" if isinstance(v, str) else ("Int64" if isinstance(v, int) else "Float64")
        for k, v in cells[0].items()
    }
    client.command(f"DROP TABLE IF EXISTS {name}")
    client.command(
        f"CREATE TABLE {name} ({', '.join(f'{c} {types[c]}' for c in columns)}) ENGINE = Memory"
    )
    client.insert(name, [[c[k] for k in columns] for c in cells], column_names=columns)


def parameters(shape: Shape, tenant: str, industry: str) -> dict[str, Any]:
    """The dashboard's bound values: the last full year against the one before, aligned."""
    start = datetime(shape.last_year, 1, 1)
    end = datetime(shape.last_year + 1, 1, 1)
    return {
        "start": start,
        "end": end,
        "compare_start": start - timedelta(days=364),
        "compare_end": end - timedelta(days=364),
        "tenant": tenant,
        "industry": industry,
        "use_case": "",
        "channel": "",
        "since": datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1),
        "topic": "journey.interactions.v1",
        "limit": 20,
        "rule_id": "",  # alert_firings: every rule
        "leakage_window_h": 24,  # the worker's default windows
        "repeat_window_h": 168,
    }


def time_query(client: Client, sql: str, params: dict[str, Any], runs: int) -> list[float]:
    """Wall-clock milliseconds of ``runs`` runs (after two warm-ups), client side."""
    for _ in range(2):
        client.query(sql, parameters=params)
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        client.query(sql, parameters=params)
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def browse(url: str, state: Path) -> tuple[float, list[tuple[str, float, float, float]]]:
    """Page draw times in headless Chromium.

    First the very first page a new dashboard process serves (imports and connections
    included). Then for every page: drawn in a new browser (nothing cached in the browser, the
    page's queries not cached by the dashboard); drawn again in that browser once the query
    cache has expired (what a reader moving between pages sees); and drawn with its queries
    cached (a reload within the cache's TTL).
    """
    from dashboard.data import CACHE_TTL_S
    from streams.settings import Settings
    from tests.browser import PAGE_PATHS, chromium, dashboard_server, open_and_wait

    settings = Settings(clickhouse_url=url, dashboard_port=free_port())  # type: ignore[arg-type]
    out = []
    with dashboard_server(settings, state / "streamlit.log") as base, chromium() as browser:
        # Live shares no query with another page, so every page's first draw stays uncached.
        start_up = browser.new_context()
        cold = open_and_wait(start_up.new_page(), f"{base}/live", "Live").seconds
        start_up.close()
        for title, path in PAGE_PATHS.items():
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            drawn = [open_and_wait(page, f"{base}/{path}", title)]
            time.sleep(CACHE_TTL_S + 1)
            drawn.append(open_and_wait(page, f"{base}/{path}", title))
            drawn.append(open_and_wait(page, f"{base}/{path}", title))
            context.close()
            problems = [p for d in drawn for p in d.exceptions + d.errors]
            if problems:
                raise RuntimeError(f"page {title} showed: {problems}")
            out.append((title, drawn[0].seconds, drawn[1].seconds, drawn[2].seconds))
    return cold, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-year", type=float, default=10e9, help="interactions a year")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per query and filter")
    parser.add_argument("--browser", action="store_true", help="also time every page drawn")
    parser.add_argument("--only", default="", help="comma-separated named queries to time")
    parser.add_argument("--report", type=Path, default=Path("build/bench-queries.md"))
    args = parser.parse_args()
    shape = Shape(last_year=datetime.now(UTC).year - 1, years=args.years, per_year=args.per_year)
    cal = Calibration.load()
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    with (
        tempfile.TemporaryDirectory(prefix="bench-queries-") as tmp,
        accounted_clickhouse(Path(tmp), "bench") as server,
    ):
        url = account_url(f"{server.url}/bench", "admin")
        migrate(url)
        client = connect(url)
        analyst = connect(account_url(url, "analyst"))  # timed as analysts run them
        print(f"generating {shape.years} years ({shape.days} days) at {shape.per_year:,.0f}/year")
        rows = generate(client, cal, shape)
        total = int(
            client.command(
                "SELECT sum(interactions) FROM rollup_interactions_daily "
                "WHERE kind != 'message_receipt' AND toYear(day) = {y:UInt16}",
                parameters={"y": shape.last_year},
            )
        )
        say(f"# Named queries at {total / 1e9:.2f} billion interactions in {shape.last_year}")
        say()
        say(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
            f"{platform.processor() or platform.machine()}, {_cpus()} CPUs; ClickHouse "
            f"{client.server_version} (chdb, embedded); {args.runs} runs per query and filter, "
            "client-side wall time over HTTP."
        )
        say()
        say("| table | rows |")
        say("|---|---:|")
        for table, n in rows.items():
            say(f"| {table} | {n:,} |")
        say()
        say("| query | p50 ms (all) | p95 ms (all) | p50 ms (one brand) | p95 ms (one brand) |")
        say("|---|---:|---:|---:|---:|")
        worst = 0.0
        chosen = {name for name in args.only.split(",") if name}
        for query in queries.load_all():
            if chosen and query.name not in chosen:
                continue
            cells = []
            for tenant, industry in (("", ""), ("retail-1", "retail")):
                params = {
                    k: v
                    for k, v in parameters(shape, tenant, industry).items()
                    if k in query.parameters
                }
                times = time_query(analyst, query.sql, params, args.runs)
                cells += [statistics.median(times), p95(times)]
                worst = max(worst, p95(times))
            say(f"| {query.name} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
        say()
        verdict = "met" if worst < AIM_QUERY_MS else "NOT met"
        say(f"Slowest p95: {worst:.1f} ms; aim p95 < {AIM_QUERY_MS:.0f} ms: {verdict}.")
        if args.browser:
            say()
            cold, pages = browse(account_url(url, "dashboard"), Path(tmp))
            say(f"First page a new dashboard process serves (Live): {cold:.2f} s.")
            say()
            say(
                "| page | new browser, queries run s | same browser, queries run s "
                "| queries cached s |"
            )
            say("|---|---:|---:|---:|")
            for title, *seconds in pages:
                say(f"| {title} | " + " | ".join(f"{x:.2f}" for x in seconds) + " |")
            for column, label in ((1, "in a new browser"), (2, "in a browser already open")):
                slowest = max(row[column] for row in pages)
                verdict = "met" if slowest < AIM_PAGE_S else "NOT met"
                say()
                say(
                    f"Slowest page drawn {label}, its queries run: {slowest:.2f} s; "
                    f"aim < {AIM_PAGE_S:.0f} s: {verdict}."
                )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(lines) + "\n")
    print(f"report written to {args.report}")


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
