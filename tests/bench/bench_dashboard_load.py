"""Twenty readers at once: the dashboard's page draws under load against one reader alone.

``make bench-dashboard``. The data is the query benchmark's (three years of rollups generated
at 10 billion interactions a year, ``bench_queries.generate``), the dashboard runs as
``journey dashboard`` does, with its read-only account, and the readers are websocket sessions
(``dashboard_readers``), not browsers, so the load generator barely competes for the cores.

Three protocols, each run with one reader and with twenty, the same pages in the same order:

- **browsing**: every reader (one session each, kept open as a browser tab keeps it) opens
  the eight pages in turn, a page a second (``--pause``; twenty readers are then 72,000 page
  views an hour, far beyond twenty people), for ``--seconds``; the query cache (10 s) expires
  as it would, so draws mix fresh queries and cached ones.
- **arriving together**: the cache is emptied, then all readers arrive (new sessions) at the
  same moment on the same page: one runs the page's queries, the others wait for its answer.
- **saturating**: browsing without any pause, the server's capacity in draws a second: past
  it, a draw waits for the ones ahead of it.

The report (``build/bench-dashboard.md``) gives p50 and p95 of the draw times (request to the
page's last element) and the ratio twenty / one, measured in one run. Aims: p95 with twenty
readers under 1.5 s (issue 17) and at most three times that of one, browsing and arriving
together.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from streams.clickhouse.client import connect
from streams.clickhouse.migrations import migrate
from streams.settings import Settings
from streams.simulate.calibration import Calibration
from tests.bench.bench_queries import Shape, generate, p95
from tests.bench.dashboard_readers import Draw, Reader, clear_cache, draw, draw_together
from tests.browser import PAGE_PATHS, dashboard_server
from tests.support import account_url, accounted_clickhouse, free_port

AIM_P95_S = 1.5  # with twenty readers, issue 17
AIM_RATIO = 3.0
PAGES = list(PAGE_PATHS.values())


async def browse(base: str, readers: int, seconds: float, pause: float) -> list[Draw]:
    """``readers`` readers (a session each, kept open) opening the pages in turn, ``pause``
    seconds between a page drawn and the next asked for, until ``seconds`` have passed."""
    stop_at = time.monotonic() + seconds

    async def one(offset: int) -> list[Draw]:
        drawn: list[Draw] = []
        i = offset
        async with Reader(base) as reader:
            while time.monotonic() < stop_at:
                drawn.append(await reader.draw(PAGES[i % len(PAGES)]))
                i += 1
                await asyncio.sleep(pause)
        return drawn

    # Each reader starts on its own page, as readers of one dashboard do.
    results = await asyncio.gather(*(one(i) for i in range(readers)))
    return [d for drawn in results for d in drawn]


def arriving_together(base: str, readers: int, rounds: int) -> list[Draw]:
    """Per page and round: the cache emptied, then ``readers`` sessions at the same moment."""
    drawn: list[Draw] = []
    for _ in range(rounds):
        for page in PAGES:
            clear_cache(base)
            drawn += asyncio.run(draw_together(base, page, readers))
    return drawn


def summary(draws: list[Draw]) -> tuple[float, float]:
    seconds = [d.seconds for d in draws]
    return statistics.median(seconds), p95(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-year", type=float, default=10e9, help="interactions a year")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="of browsing per run")
    parser.add_argument("--pause", type=float, default=1.0, help="between pages, browsing")
    parser.add_argument("--rounds", type=int, default=3, help="of arriving together per page")
    parser.add_argument("--report", type=Path, default=Path("build/bench-dashboard.md"))
    args = parser.parse_args()
    shape = Shape(last_year=datetime.now(UTC).year - 1, years=3, per_year=args.per_year)
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        state = Path(tmp)
        with accounted_clickhouse(state, "bench") as server:
            admin = account_url(f"{server.url}/bench", "admin")
            migrate(admin)
            print(f"generating {shape.years} years at {shape.per_year:,.0f} interactions a year")
            generate(connect(admin), Calibration.load(), shape)
            settings = Settings(
                clickhouse_url=account_url(f"{server.url}/bench", "dashboard"),  # type: ignore[arg-type]
                dashboard_port=free_port(),
            )
            with dashboard_server(settings, state / "streamlit.log") as base:
                for page in PAGES:  # every page once: imports and first connections done
                    asyncio.run(draw(base, page))
                results: dict[tuple[str, int], list[Draw]] = {}
                for readers in (1, args.readers):
                    for protocol, pause in (("browsing", args.pause), ("saturating", 0.0)):
                        print(f"{protocol} with {readers} reader(s) for {args.seconds:.0f} s")
                        results[protocol, readers] = asyncio.run(
                            browse(base, readers, args.seconds, pause)
                        )
                    print(f"arriving together: {readers} reader(s), {args.rounds} rounds")
                    results["together", readers] = arriving_together(base, readers, args.rounds)

    problems = [e for draws in results.values() for d in draws for e in d.exceptions]
    say(f"# Dashboard under {args.readers} readers")
    say()
    say(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}; the dashboard, ClickHouse and the "
        f"readers share the machine. Data: three years at {shape.per_year:,.0f} interactions "
        "a year. A draw is the time from asking for a page to its last element (server side)."
    )
    say()
    say("| protocol | readers | draws | draws/s | p50 s | p95 s | p95 ratio to one reader |")
    say("|---|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for protocol in ("browsing", "together", "saturating"):
        _, alone = summary(results[protocol, 1])
        for readers in (1, args.readers):
            draws = results[protocol, readers]
            p50, p95_ = summary(draws)
            ratio = p95_ / alone
            # arriving together is a number of rounds, not a span of time: no rate
            rate = f"{len(draws) / args.seconds:.1f}" if protocol != "together" else "-"
            if readers > 1:
                verdicts.append((protocol, ratio))
            say(
                f"| {protocol} | {readers} | {len(draws)} | {rate} | {p50:.3f} | "
                f"{p95_:.3f} | {ratio:.2f} |"
            )
    say()
    for protocol, ratio in verdicts:
        if protocol == "saturating":
            say(f"- saturating: p95 ratio {ratio:.2f} (a capacity figure, not an aim).")
            continue
        verdict = "met" if ratio <= AIM_RATIO else "NOT met"
        say(f"- {protocol}: p95 ratio {ratio:.2f}; aim at most {AIM_RATIO:g}: {verdict}.")
        _, crowded = summary(results[protocol, args.readers])
        verdict = "met" if crowded < AIM_P95_S else "NOT met"
        say(
            f"- {protocol}: p95 with {args.readers} readers {crowded:.2f} s; "
            f"aim under {AIM_P95_S:g} s: {verdict}."
        )
    if problems:
        say(f"- exceptions shown on pages: {sorted(set(problems))[:5]}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(lines) + "\n")
    print(f"report written to {args.report}")


if __name__ == "__main__":
    main()
