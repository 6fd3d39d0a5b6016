"""The ``journey`` command: one CLI for running, operating and querying the product."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from pydantic import ValidationError

from deploy.local.processes import LaunchError
from streams.errors import JourneyError
from streams.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    """Start every part that is not running yet, then print where to find them."""
    from streams import local_stack as stack
    from streams.kafka_admin import broker_answers, ensure_topics, project_topics
    from streams.migrations import migrate

    if stack.kafka_is_local(settings) and not broker_answers(settings.kafka_bootstrap, 2.0):
        print(f"starting Kafka broker on {settings.kafka_bootstrap} ...", flush=True)
        stack.kafka_broker(settings).start()
    if stack.clickhouse_is_local(settings) and not stack.ping(
        "127.0.0.1", settings.clickhouse_port
    ):
        print(f"starting embedded ClickHouse on :{settings.clickhouse_port} ...", flush=True)
        stack.clickhouse_server(settings).start()
    applied = migrate(settings.clickhouse_url.get_secret_value())
    print(f"migrations applied: {len(applied)}")
    ensure_topics(settings.kafka_bootstrap, project_topics(settings))
    worker = stack.worker_process(settings)
    if not worker.is_running() and not args.no_worker:
        print("starting worker ...", flush=True)
        worker.start(stack.worker_command())
        worker.wait_until(
            lambda: stack.port_open("127.0.0.1", settings.worker_web_port),
            timeout=90,
            what="worker web port open",
        )
    dashboard = stack.dashboard_process(settings)
    if not dashboard.is_running() and not args.no_dashboard:
        print("starting dashboard ...", flush=True)
        dashboard.start(stack.dashboard_command(settings))
        health = f"http://127.0.0.1:{settings.dashboard_port}/_stcore/health"
        dashboard.wait_until(lambda: stack.http_ok(health), timeout=90, what=health)
    print()
    print(f"  dashboard   http://127.0.0.1:{settings.dashboard_port}")
    print(f"  clickhouse  {settings.masked_clickhouse_url()}  (journey sql, clickhouse-connect)")
    print(f"  kafka       {settings.kafka_bootstrap}  topic {settings.topic_interactions}")
    print(f"  logs        {settings.state_dir / 'logs'}")
    print("  stop with   journey down")
    return 0


def cmd_down(args: argparse.Namespace, settings: Settings) -> int:
    """Stop everything `up` started, most dependent first."""
    from streams import local_stack as stack

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
    from streams import local_stack as stack

    parts = stack.status(settings)
    for part in parts:
        print(f"{part.name:<11} {'healthy' if part.healthy else 'DOWN':<8} {part.detail}")
    return 0 if all(p.healthy for p in parts) else 1


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from streams.migrations import migrate

    applied = migrate(settings.clickhouse_url.get_secret_value())
    for migration in applied:
        print(f"applied {migration.path.name}")
    print(f"{len(applied)} migration(s) applied; schema is current")
    return 0


def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    from streams.kafka_admin import ensure_topics, project_topics

    created = ensure_topics(settings.kafka_bootstrap, project_topics(settings))
    print(f"created: {', '.join(created) if created else 'nothing, all topics exist'}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from streams.worker import run_worker

    return run_worker(settings, loglevel=args.loglevel)


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from streams import local_stack as stack

    command = stack.dashboard_command(settings)
    os.execv(command[0], command)
    return 0  # pragma: no cover (execv does not return)


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
    add("down", cmd_down, "stop every part `journey up` started")
    add("status", cmd_status, "health of every part (exit 1 if any is down)")
    add("migrate", cmd_migrate, "apply pending ClickHouse schema migrations")
    add("topics", cmd_topics, "create the project's Kafka topics if missing")
    worker = add("worker", cmd_worker, "run the stream-processing worker in the foreground")
    worker.add_argument("--loglevel", default="info", choices=["debug", "info", "warning"])
    add("dashboard", cmd_dashboard, "run the Streamlit dashboard in the foreground")
    add("config", cmd_config, "print the effective settings (secrets masked)")
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
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        print(f"journey: error: bad setting {where}: {first.get('msg')}", file=sys.stderr)
        return 2
    except (JourneyError, LaunchError) as exc:
        print(f"journey: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
