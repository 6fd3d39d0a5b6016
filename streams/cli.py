"""The ``journey`` command: one CLI for running, operating and querying the product."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from streams.clickhouse.local_accounts import url_for
from streams.errors import JourneyError, LaunchError, first_line
from streams.settings import Settings, env_name_at, load_settings

if TYPE_CHECKING:
    import pandas as pd

    from dashboard.filters import Filters

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    """Start every part that is not running yet, then print where to find them."""
    from deploy.local import stack
    from streams.clickhouse.migrations import migrate
    from streams.kafka.admin import broker_answers, ensure_topics, project_topics

    security = settings.kafka
    if stack.kafka_is_local(settings) and not broker_answers(
        settings.kafka.bootstrap, 2.0, security
    ):
        print(f"starting Kafka broker on {settings.kafka.bootstrap} ...", flush=True)
        stack.kafka_broker(settings).start()
    if stack.clickhouse_is_local(settings) and not stack.ping(
        "127.0.0.1", settings.clickhouse_port
    ):
        print(f"starting embedded ClickHouse on :{settings.clickhouse_port} ...", flush=True)
        stack.start_clickhouse(settings)
    applied = migrate(url_for(settings, "admin"), cluster=settings.clickhouse_cluster)
    print(f"migrations applied: {len(applied)}")
    ensure_topics(settings.kafka.bootstrap, project_topics(settings), security=security)
    worker = stack.worker_process(settings)
    if not worker.is_running() and not args.no_worker:
        print("starting worker ...", flush=True)
        # Each process as its own account: the worker can only insert facts and leases.
        worker.start(stack.worker_command(), env={"CLICKHOUSE_URL": url_for(settings, "worker")})
        worker.wait_until(
            lambda: stack.port_open("127.0.0.1", settings.worker_web_port),
            timeout=90,
            what="worker web port open",
        )
    simulator = stack.simulator_process(settings)
    marker = settings.state_dir / "simulator" / "backfilled"
    if not simulator.is_running() and not args.no_simulator:
        # Two calibrated years once per state directory, then live traffic; a second `up`
        # after `down` only resumes the live stream (the backfill is already in Kafka).
        command = stack.simulator_command(
            backfill=not marker.exists(), events=args.backfill_events, rate=args.live_rate
        )
        print("starting simulator ...", flush=True)
        marker.parent.mkdir(parents=True, exist_ok=True)
        simulator.start(command)
        marker.write_text("backfill started by journey up\n")
    dashboard = stack.dashboard_process(settings)
    if not dashboard.is_running() and not args.no_dashboard:
        print("starting dashboard ...", flush=True)
        env = {"CLICKHOUSE_URL": url_for(settings, "dashboard")}  # the read-only account
        dashboard.start(stack.dashboard_command(settings), env=env)
        health = f"http://127.0.0.1:{settings.dashboard_port}/_stcore/health"
        dashboard.wait_until(lambda: stack.http_ok(health), timeout=90, what=health)
    print()
    print(f"  dashboard   http://127.0.0.1:{settings.dashboard_port}")
    print(f"  clickhouse  {settings.masked_clickhouse_url()}  (journey sql, clickhouse-connect)")
    print(f"  kafka       {settings.kafka.bootstrap}  topic {settings.topic_interactions}")
    print(f"  logs        {settings.state_dir / 'logs'}")
    print("  stop with   journey down")
    return 0


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    """Stop everything `up` started, most dependent first."""
    from deploy.local import stack

    parts = [
        stack.dashboard_process(settings),
        stack.simulator_process(settings),
        stack.worker_process(settings),
    ]
    for process in parts:
        if process.stop(timeout=30):
            print(f"stopped {process.name}")
    if stack.clickhouse_server(settings).stop():
        print("stopped clickhouse")
    if stack.kafka_broker(settings).stop():
        print("stopped kafka")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """One line per part; exit 1 if any part is unhealthy."""
    from deploy.local import stack

    parts = stack.status(settings)
    for part in parts:
        print(f"{part.name:<11} {'healthy' if part.healthy else 'DOWN':<8} {part.detail}")
    return 0 if all(p.healthy for p in parts) else 1


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from streams.clickhouse.migrations import migrate, planned

    cluster = settings.clickhouse_cluster
    if args.print:
        # The statements as they would run (cluster form with JOURNEY_CLICKHOUSE_CLUSTER).
        for migration, statements in planned(cluster=cluster):
            print(f"-- {migration.path.name}{f' (cluster {cluster})' if cluster else ''}")
            for statement in statements:
                print(f"{statement};\n")
        return 0
    applied = migrate(url_for(settings, "admin"), cluster=cluster)
    for migration in applied:
        print(f"applied {migration.path.name}")
    print(f"{len(applied)} migration(s) applied; schema is current")
    return 0


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    from streams.kafka.admin import ensure_topics, project_topics

    created = ensure_topics(
        settings.kafka.bootstrap, project_topics(settings), security=settings.kafka
    )
    print(f"created: {', '.join(created) if created else 'nothing, all topics exist'}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from streams.worker import CHILD_FLAG, run_worker, supervise

    if os.environ.get(CHILD_FLAG):
        return run_worker(settings, loglevel=args.loglevel)
    return supervise(args.loglevel)


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from deploy.local import stack

    command = stack.dashboard_command(settings)
    os.execv(command[0], command)
    return 0  # pragma: no cover (execv does not return)


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    """Print the event contract as JSON Schema."""
    import json

    from streams.events import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    """Validate and publish a JSON Lines or CSV file (or stdin)."""
    import os
    from pathlib import Path

    from streams.publish import api as pub
    from streams.publish.pseudonymise import pseudonymiser
    from streams.publish.sender import open_sender

    fmt = args.format or ("csv" if args.source.endswith(".csv") else "jsonl")
    rejects_path = Path(args.rejects) if args.rejects else pub.default_rejects_path(args.source)
    rejects = pub.RejectsFile(rejects_path)  # refuses to replace a file before anything is sent
    if args.source == "-":
        stream, total = sys.stdin.buffer, None
    else:
        path = Path(args.source)
        if not path.is_file():
            print(f"journey: error: no such file: {path}", file=sys.stderr)
            return 2
        stream, total = open(path, "rb"), os.path.getsize(path)  # noqa: SIM115
    sender = open_sender(
        settings.kafka.bootstrap,
        args.topic or settings.topic_interactions,
        settings.kafka,
    )
    progress = pub.Progress(
        args.progress or (sys.stderr.isatty() and (total or 0) > 1 << 20), total
    )
    try:
        report = pub.publish_stream(
            stream,
            sender,
            pseudonymiser(settings),
            fmt=fmt,
            rejects=rejects,
            progress=progress,
        )
    finally:
        rejects.close()
        sender.close()
        if stream is not sys.stdin.buffer:
            stream.close()
    for rejection in report.rejections[:10]:
        where = f"{rejection.field}: " if rejection.field else ""
        print(f"line {rejection.line}: {where}{rejection.reason}", file=sys.stderr)
    if report.rejected > 10:
        print(f"... and {report.rejected - 10:,} more", file=sys.stderr)
    print(report.summary())
    if rejects.written:
        print(f"rejected lines written to {rejects_path}")
    return 0 if report.ok else 1


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    """Publish calibrated traffic: a backfill over a date range, live traffic, or both."""
    import time
    from datetime import UTC, datetime, timedelta

    from streams.publish.sender import open_sender
    from streams.simulate.generator import Disorder
    from streams.simulate.run import open_truth, publish_records, simulator_for

    disorder = Disorder(
        late_fraction=args.late,
        duplicate_fraction=args.duplicates,
        receipt_first_fraction=args.receipts_first,
        overtaken_fraction=args.overtaken,
        malformed_fraction=args.malformed,
    )
    sim = simulator_for(settings, args.seed, disorder=disorder)
    sender = open_sender(settings.kafka.bootstrap, settings.topic_interactions, settings.kafka)
    truth = open_truth(args.truth)
    try:
        if args.mode == "backfill":
            start = datetime.fromisoformat(args.start).replace(tzinfo=UTC)
            end = datetime.fromisoformat(args.end).replace(tzinfo=UTC) + timedelta(days=1)
            report = publish_records(sim.backfill(args.events, start, end), sender, truth)
            print(f"backfill: {report.summary()}", flush=True)
        if args.mode == "live" or args.then_live:
            rate = args.rate if args.mode == "live" else args.then_live
            records = sim.live(int(time.time() * 1000), rate)
            if args.duration:
                stop_at = time.time() + args.duration
                records = (r for r in records if r.publish_ms / 1000 < stop_at)
            report = publish_records(records, sender, truth, pace=True)
            print(f"live: {report.summary()}", flush=True)
    finally:
        sender.close()
        if truth is not None:
            truth.close()
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    """Recompute every rollup from the source topic and compare with ClickHouse; with
    ``--offsets`` or ``--from/--to``, check a range of the topic against the raw tables."""
    from streams.clickhouse.client import connect
    from streams.kafka.admin import require_broker
    from streams.logic.aggregate import Rules
    from streams.logic.customers import windows_of
    from streams.tools import verify

    require_broker(settings.kafka.bootstrap, security=settings.kafka)
    client = connect(url_for(settings, "analyst"))  # verify only reads
    if args.offsets or args.start or args.end:
        return _verify_offsets(args, settings, client)
    partitions = verify.read_partitions(
        settings.kafka.bootstrap, settings.topic_interactions, settings.kafka
    )
    records = sum(len(p) for p in partitions)
    rules = Rules(grace_ms=round(settings.late_grace_s * 1000))
    truth = verify.compute_truth(partitions, rules, windows_of(settings))
    applied = verify.applied_records(client, settings.topic_interactions)
    behind = verify.customers_behind(settings, client)
    print(
        f"{settings.topic_interactions}: {records:,} records, {applied:,} applied by "
        f"the worker; {truth.duplicates:,} duplicates"
    )
    verdicts = verify.check(client, truth)
    for line in verify.summarise(verdicts):
        print(line)
    if applied < records:
        print("the worker has not applied every record yet: differences may be lag, not loss")
    if behind:
        print(
            f"the customers stage has {behind:,} records of {settings.topic_customers} to apply "
            "yet: its counts may differ by lag, not loss"
        )
    return 0 if all(v.exact for v in verdicts) else 1


def _verify_offsets(args: argparse.Namespace, settings: Settings, client: Any) -> int:
    """``journey verify --offsets P:A-B ... | --from DAY --to DAY``: the ranges' records
    against the raw tables, then, for a window, the raw table against every rollup, in
    bounded memory (streams/tools/verify_offsets.py, streams/tools/verify_window.py)."""
    from streams.logic.customers import windows_of
    from streams.tools import verify, verify_offsets, verify_window

    if args.offsets and (args.start or args.end):
        raise JourneyError("journey verify: give --offsets or --from/--to, not both")
    if args.offsets:
        ranges = [verify_offsets.parse_range(text) for text in args.offsets]
        asked = "offsets " + ", ".join(str(r) for r in ranges)
    else:
        if not (args.start and args.end):
            raise JourneyError("journey verify: --from and --to go together")
        start, end = _instant(args.start, "--from"), _instant(args.end, "--to")
        verify_window.Periods.inside(start, end)  # a window without a whole hour: say so now
        ranges = verify_offsets.window_ranges(client, start, end)
        asked = f"events from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC (event time)"
    topic = settings.topic_interactions
    print(f"{topic}, {asked}: the records against the raw interactions and dead letters")
    reports = verify_offsets.check_ranges(
        client, settings.kafka.bootstrap, topic, ranges, settings.kafka
    )
    if not ranges:
        print("the raw table holds no event in that window: no record to check")
    for report in reports:
        for line in report.lines():
            print(line)
    exact = all(r.exact for r in reports)
    if args.offsets:
        print(
            "the rollups are not part of an --offsets check: --from/--to (event time) checks "
            "them for a window"
        )
        return 0 if exact else 1
    window = verify_window.check_window(client, start, end, windows_of(settings))
    for line in window.lines():
        print(line)
    behind = verify.customers_behind(settings, client)
    if behind:
        print(
            f"the customers stage has {behind:,} records of {settings.topic_customers} to apply "
            "yet: its counts may differ by lag, not loss"
        )
    return 0 if exact and window.exact else 1


def _instant(text: str, option: str) -> datetime:
    """A UTC instant from ``YYYY-MM-DD`` (midnight) or an ISO date and time."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise JourneyError(
            f"journey verify {option} {text!r}: expected a date (2021-03-01) or a date and "
            "time (2021-03-01T12:00), UTC"
        ) from None


def cmd_sql(args: argparse.Namespace, settings: Settings) -> int:
    """Run a named query, a SQL file or a statement, read-only, and print the rows."""
    from streams.clickhouse.client import connect
    from streams.tools import sql as sql_cli

    if args.list:
        print(sql_cli.listing(), end="")
        return 0
    text, declared, label = sql_cli.resolve(args.target, args.file)
    params = sql_cli.parse_params(args.param, declared)
    client = connect(url_for(settings, "analyst"))
    try:
        # readonly=2: no writes, no DDL, but query-level settings still allowed.
        result = client.query(text, parameters=params, settings={"readonly": 2})
    except Exception as exc:
        raise JourneyError(f"{label}: {first_line(exc)}") from None
    try:
        text = sql_cli.render(result.column_names, result.result_rows, args.format)
    except Exception as exc:  # a result nobody foresaw: one line, never a traceback
        raise JourneyError(f"{label}: the result could not be rendered: {exc}") from None
    print(text, end="")
    return 0


def cmd_headlines(args: argparse.Namespace, settings: Settings) -> int:
    """Print what changed in a period against its comparison, in a few sentences."""
    from dashboard import headlines

    chosen = _chosen_period(args)
    rules = headlines.Thresholds(limit=args.limit)
    run = _query_runner(settings)
    found = headlines.gather(run, chosen.params(), chosen.params(comparison=True), rules)
    context = chosen.context()
    print(f"{context['period']}, compared with {context['comparison_period']}:")
    for headline in found:
        print(f"- {headline.text}")
    if not found:
        print("- nothing changed by enough, on enough events, to be stated")
    return 0


def _chosen_period(args: argparse.Namespace) -> Filters:
    """The period, comparison and filters given on the command line (``--period`` ...)."""
    from datetime import UTC, datetime

    from dashboard import filters

    try:
        start, end = filters.parse_period(args.period, datetime.now(UTC).date())
        compare_start, compare_end = filters.comparison_period(start, end, args.compare)
    except ValueError as exc:
        raise JourneyError(str(exc)) from None
    return filters.Filters(
        start, end, compare_start, compare_end, args.tenant, args.industry, args.use_case, ""
    )


def _query_runner(settings: Settings) -> Callable[[str, dict[str, object]], pd.DataFrame]:
    """Named queries run as the read-only analyst; a failure is one line naming the query."""
    from streams.clickhouse import queries
    from streams.clickhouse.client import connect

    return queries.frames(connect(url_for(settings, "analyst")))


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Write the digest of a period: one self-contained HTML file, and a PDF if asked."""
    from datetime import UTC, datetime

    from dashboard import digest

    chosen = _chosen_period(args)
    document = digest.render_html(_query_runner(settings), chosen, datetime.now(UTC))
    out: Path = args.out or Path("build") / f"digest-{args.period}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document)
    print(f"wrote {out} ({len(document.encode()):,} bytes)")
    if args.pdf:
        pdf = out.with_suffix(".pdf")
        try:
            digest.print_pdf(out, pdf)
        except RuntimeError as exc:
            raise JourneyError(str(exc)) from None
        print(f"wrote {pdf} ({pdf.stat().st_size:,} bytes)")
    return 0


def cmd_alerts(args: argparse.Namespace, settings: Settings) -> int:
    """Check the alert rules now (deliver and record new firings), or list what fired."""
    from dashboard import alerts
    from streams import alerting
    from streams.clickhouse.client import connect

    path: Path = args.rules or settings.alerts_file
    try:
        rules = alerts.load_rules(path)
    except alerts.RuleError as exc:
        raise JourneyError(str(exc)) from None
    if args.action == "list":
        for rule in rules:
            print(f"{rule.id}: {rule.metric} {rule.slice or ''} {rule.period}, {rule.direction} "
                  f"{rule.threshold:g}, at least {rule.min_volume:,} events, "
                  f"{len(rule.targets)} target(s)")  # fmt: skip
        return 0
    # The worker's account: it reads the rollups and writes the alerts table.
    results = alerting.check_now(connect(url_for(settings, "worker")), rules)
    for line in alerting.summary(results):
        print(line)
    return 1 if any(outcome == "delivery failed" for _, outcome in results) else 0


def cmd_access(args: argparse.Namespace, settings: Settings) -> int:
    """Render the access SQL, apply it, or print a users.xml for file-configured servers."""
    from streams.clickhouse import access

    if args.action == "render":
        for path in access.render():
            print(f"wrote {path}")
        return 0
    passwords = access.passwords_from(settings.secrets_by_env_name())
    if args.action == "users-xml":
        print(access.users_xml(settings.clickhouse_database, passwords), end="")
        return 0
    count = access.apply(url_for(settings, "admin"), passwords)
    print(f"{count} access statement(s) applied for database {settings.clickhouse_database}")
    return 0


def cmd_losses(args: argparse.Namespace, settings: Settings) -> int:
    """List the records the topic deleted before any worker applied them; exit 1 while any is
    unacknowledged, unless ``--acknowledge`` marks them all as seen."""
    from streams.clickhouse import losses
    from streams.clickhouse.client import connect

    client = connect(url_for(settings, "admin"))
    if args.acknowledge:
        count = losses.acknowledge(client)
        print(f"{count} loss(es) acknowledged")
        return 0
    rows = losses.read(client)
    if not rows:
        print("no records were lost: every record the topics deleted had been applied")
        return 0
    for topic, p, first, last, lost, after, detected, worker, acknowledged in rows:
        state = "acknowledged" if acknowledged else "NOT ACKNOWLEDGED"
        print(
            f"{topic} partition {p}: offsets {first}-{last} ({lost:,} records) lost, found "
            f"{detected:%Y-%m-%d %H:%M:%S} by {worker}; events after {after:%Y-%m-%d %H:%M} "
            f"[{state}]"
        )
    return 1 if losses.pending(rows) else 0


def cmd_dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """``journey dead-letters list|export|replay``: rejected records by code and period,
    exported for an engineer to fix, and the fixed file replayed through the publisher, each
    dead letter once (streams/tools/dead_letters.py)."""
    from datetime import timedelta

    from streams.clickhouse.client import connect
    from streams.tools import dead_letters

    now = datetime.now(UTC)
    since = _instant(args.start, "--from") if args.start else now - timedelta(days=90)
    until = _instant(args.end, "--to") if args.end else now + timedelta(days=1)
    period = dead_letters.Period(since, until, args.code or "")
    if args.action == "list":
        rows = dead_letters.summary(connect(url_for(settings, "analyst")), period)
        if not rows:
            print(f"no dead letters received from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M}")
            return 0
        for row in rows:
            left = row["dead_letters"] - row["replayed"]
            print(
                f"{row['code']}: {row['dead_letters']:,} dead letters, {row['replayed']:,} "
                f"replayed, {left:,} to repair; received {row['first_received']:%Y-%m-%d %H:%M} "
                f"to {row['last_received']:%Y-%m-%d %H:%M}; e.g. {row['example']}"
            )
        return 0
    if args.action == "export":
        client = connect(url_for(settings, "analyst"))
        if args.out == "-":
            count = dead_letters.export(client, period, sys.stdout, args.replayed_too)
        else:
            out = Path(args.out)
            if out.exists():
                raise JourneyError(f"{out} already exists: name another file with --out")
            with out.open("x", encoding="utf-8") as stream:
                count = dead_letters.export(client, period, stream, args.replayed_too)
        print(f"{count:,} dead letters exported to {args.out}", file=sys.stderr)
        return 0
    return _replay_dead_letters(args, settings)


def _replay_dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """``journey dead-letters replay FILE``: publish each fixed record once, with provenance."""
    import getpass
    import socket

    from kafka import KafkaProducer

    from streams.clickhouse.client import connect
    from streams.kafka.admin import require_broker
    from streams.publish.pseudonymise import pseudonymiser
    from streams.tools import dead_letters

    if args.file is None:
        raise JourneyError("journey dead-letters replay: give the fixed file (or - for stdin)")
    report = dead_letters.ReplayReport()
    lines = dead_letters.read_file(Path(args.file))
    fixed = list(dead_letters.read_fixed(lines, pseudonymiser(settings), report))
    require_broker(settings.kafka.bootstrap, security=settings.kafka)
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap,
        **settings.kafka.client_options(),
        acks="all",
        enable_idempotence=True,
    )
    try:
        dead_letters.replay(
            connect(url_for(settings, "admin")),
            producer,
            settings.topic_interactions,
            fixed,
            report,
            f"{getpass.getuser()}@{socket.gethostname()}",
        )
    finally:
        producer.close()
    print(report.summary())
    for refusal in report.refused:
        print(f"  {refusal}")
    return 1 if report.refused else 0


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """``journey rebuild [--from DAY --to DAY]``: recompute the rollups from the raw table
    into new tables, check them and swap them in (streams/tools/rebuild.py)."""
    from streams.clickhouse.client import connect
    from streams.logic.customers import windows_of
    from streams.tools import rebuild

    if settings.clickhouse_cluster:
        raise JourneyError(
            "journey rebuild runs on a single server: on a cluster (JOURNEY_CLICKHOUSE_CLUSTER) "
            "each shard's tables would need their own twins, which it does not build yet"
        )
    client = connect(url_for(settings, "admin"))
    start = _instant(args.start, "--from") if args.start else None
    end = _instant(args.end, "--to") if args.end else None
    start, end = rebuild.whole_days(start, end, client)
    topics = [settings.topic_interactions]
    if settings.customer_stage:
        topics.append(settings.topic_customers)
    print(f"rebuilding every rollup for {start:%Y-%m-%d} to {end:%Y-%m-%d} (excluded)", flush=True)
    report = rebuild.rebuild(client, start, end, windows_of(settings), topics)
    for line in report.lines():
        print(line)
    return 0


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    for key, value in settings.describe().items():
        print(f"{key}={value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journey", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    up = add("up", cmd_up, "start broker, ClickHouse, migrations, worker and dashboard")
    up.add_argument("--no-worker", action="store_true", help="do not start the worker")
    up.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")
    up.add_argument("--no-simulator", action="store_true", help="do not start the simulator")
    up.add_argument(
        "--backfill-events",
        type=int,
        default=200_000,
        help="interactions the first `up` backfills over 2020-2021",
    )
    up.add_argument(
        "--live-rate",
        type=float,
        default=20.0,
        help="interactions per second of live simulated traffic",
    )
    add("down", cmd_down, "stop every part `journey up` started")
    add("status", cmd_status, "health of every part (exit 1 if any is down)")
    mig = add("migrate", cmd_migrate, "apply pending ClickHouse schema migrations")
    mig.add_argument(
        "--print",
        action="store_true",
        help="print the statements instead (the cluster form if JOURNEY_CLICKHOUSE_CLUSTER is set)",
    )
    add("topics", cmd_topics, "create the project's Kafka topics if missing")
    worker = add("worker", cmd_worker, "run the stream-processing worker in the foreground")
    worker.add_argument("--loglevel", default="info", choices=["debug", "info", "warning"])
    add("dashboard", cmd_dashboard, "run the Streamlit dashboard in the foreground")
    acc = add(
        "access",
        cmd_access,
        "least-privilege ClickHouse users: render streams/sql/access, apply it (as an "
        "administrator) or print it as users.xml",
    )
    acc.add_argument("action", choices=["render", "apply", "users-xml"])
    add("config", cmd_config, "print the effective settings (secrets masked)")
    lost = add(
        "losses",
        cmd_losses,
        "records the topic deleted before any worker applied them (exit 1 while unacknowledged)",
    )
    lost.add_argument(
        "--acknowledge", action="store_true", help="mark every loss listed as seen by an operator"
    )
    rebuilt = add(
        "rebuild",
        cmd_rebuild,
        "recompute every rollup from the raw table for whole days (default: all), check the "
        "new tables and swap them in; run with the workers stopped",
    )
    rebuilt.add_argument("--from", dest="start", metavar="DAY", help="the first day, UTC")
    rebuilt.add_argument("--to", dest="end", metavar="DAY", help="the day after the last")
    dead = add(
        "dead-letters",
        cmd_dead_letters,
        "rejected records: list them by reason code, export them to fix, replay the fixed file "
        "(each dead letter counted once, however often it is replayed)",
    )
    dead.add_argument("action", choices=["list", "export", "replay"])
    dead.add_argument("file", nargs="?", metavar="FILE|-", help="replay: the fixed file")
    dead.add_argument("--code", help="list, export: only this reason code")
    dead.add_argument(
        "--from",
        dest="start",
        metavar="WHEN",
        help="received from WHEN, UTC (default: 90 days ago)",
    )
    dead.add_argument(
        "--to", dest="end", metavar="WHEN", help="... to WHEN, excluded (default: now)"
    )
    dead.add_argument("--out", default="-", metavar="FILE|-", help="export: where (default stdout)")
    dead.add_argument(
        "--replayed-too", action="store_true", help="export: dead letters already replayed too"
    )
    sql = add("sql", cmd_sql, "run a named query, a .sql file or a statement (read-only)")
    sql.add_argument("target", nargs="?", help="a named query (see --list) or a SQL statement")
    sql.add_argument("--file", type=Path, help="run the SQL in this file")
    sql.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="bind a parameter"
    )
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.add_argument("--list", action="store_true", help="list the named queries")

    def period_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--period",
            required=True,
            help="YYYY, YYYY-MM, last-week, last-month or YYYY-MM-DD..YYYY-MM-DD (both days "
            "included)",
        )
        p.add_argument(
            "--compare",
            choices=["aligned_year", "same_dates", "previous_period"],
            default="aligned_year",
            help="compare with the previous year on the same weekdays (default), the same "
            "dates a year earlier, or the period just before",
        )
        p.add_argument("--tenant", default="", help="one tenant (default: all)")
        p.add_argument("--industry", default="", help="one industry (default: all)")
        p.add_argument("--use-case", dest="use_case", default="", help="one use case")

    heads = add("headlines", cmd_headlines, "print what changed in a period, in a few sentences")
    period_arguments(heads)
    heads.add_argument("--limit", type=int, default=5, help="at most this many sentences")
    dig = add("digest", cmd_digest, "write a period's digest: one HTML file (and a PDF)")
    period_arguments(dig)
    dig.add_argument("--out", type=Path, help="the HTML file (default: build/digest-PERIOD.html)")
    dig.add_argument("--pdf", action="store_true", help="also print it to PDF (Chromium)")
    alert = add("alerts", cmd_alerts, "check the alert rules now, or list them")
    alert.add_argument("action", choices=["check", "list"])
    alert.add_argument("--rules", type=Path, help="the rules file (default: JOURNEY_ALERTS_FILE)")
    verify = add(
        "verify",
        cmd_verify,
        "recompute every rollup from the topic and compare with ClickHouse (exit 1 if not "
        "exact); with --offsets or --from/--to, check a range of records against the raw "
        "tables, and for a window the raw table against every rollup",
    )
    verify.add_argument(
        "--offsets",
        action="append",
        metavar="P:A-B",
        help="check offsets A to B (inclusive) of partition P; repeatable",
    )
    verify.add_argument(
        "--from", dest="start", metavar="WHEN", help="check the records of events from WHEN (UTC)"
    )
    verify.add_argument(
        "--to", dest="end", metavar="WHEN", help="... to WHEN, excluded (a date or date and time)"
    )
    add("schema", cmd_schema, "print the event contract as JSON Schema")
    publish = add("publish", cmd_publish, "validate and publish events from JSON Lines or CSV")
    publish.add_argument("source", metavar="FILE|-", help="input file, or - for stdin")
    publish.add_argument(
        "--format",
        choices=["jsonl", "csv"],
        help="input format (default: from the file name, else jsonl)",
    )
    publish.add_argument(
        "--rejects", metavar="FILE", help="where rejected lines go (default: FILE.rejects.jsonl)"
    )
    publish.add_argument("--topic", help="topic to publish to (default: the interactions topic)")
    publish.add_argument(
        "--progress", action="store_true", help="show progress even when stderr is not a terminal"
    )
    sim = add("simulate", cmd_simulate, "publish calibrated, deterministic traffic")
    sim.add_argument("mode", choices=["backfill", "live"])
    sim.add_argument(
        "--events",
        type=int,
        default=200_000,
        help="backfill: interactions to generate (receipts come on top)",
    )
    sim.add_argument("--from", dest="start", default="2020-01-01", help="backfill: first day")
    sim.add_argument("--to", dest="end", default="2021-12-31", help="backfill: last day")
    sim.add_argument("--rate", type=float, default=50.0, help="live: interactions per second")
    sim.add_argument("--duration", type=float, help="live: stop after this many seconds")
    sim.add_argument(
        "--then-live",
        type=float,
        metavar="RATE",
        help="backfill: continue with live traffic at RATE afterwards",
    )
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--late", type=float, default=0.0, help="fraction published late")
    sim.add_argument("--duplicates", type=float, default=0.0, help="fraction published twice")
    sim.add_argument(
        "--receipts-first",
        type=float,
        default=0.0,
        help="fraction of receipts published before their send",
    )
    sim.add_argument(
        "--overtaken",
        type=float,
        default=0.0,
        help="fraction of read messages with a later signal too, published before the earlier",
    )
    sim.add_argument(
        "--malformed", type=float, default=0.0, help="fraction of malformed records added"
    )
    sim.add_argument(
        "--truth",
        type=Path,
        metavar="FILE",
        help="write every published record (JSON Lines) for comparison",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``journey``: errors meant for people become one line, exit code 1."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Client libraries log each refused connection; the CLI reports the failure once, itself.
    # (clickhouse-connect sets urllib3's level when imported, so import it first.)
    import clickhouse_connect  # noqa: F401

    for noisy in ("urllib3", "clickhouse_connect", "kafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        settings = load_settings()
        handler: Handler = args.handler
        return handler(args, settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = env_name_at(tuple(first.get("loc", ())))
        print(f"journey: error: bad setting {where}: {first.get('msg')}", file=sys.stderr)
        return 2
    except (JourneyError, LaunchError) as exc:
        print(f"journey: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
