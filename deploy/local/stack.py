"""The whole product on one machine: which local parts to start, in which order, and health.

A part is started only when its URL points at this machine and nothing answers there yet; a
``KAFKA_BOOTSTRAP`` or ``CLICKHOUSE_URL`` naming another host is used as it is.
"""

from __future__ import annotations

import socket
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deploy.local.clickhouse_server import EmbeddedClickHouse, ping
from deploy.local.kafka_broker import KafkaBroker
from deploy.local.processes import ManagedProcess
from streams.clickhouse.local_accounts import ADMIN_USER, LocalAccounts
from streams.clickhouse.url import LOOPBACK
from streams.kafka.admin import broker_answers
from streams.settings import Settings

DASHBOARD_APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def kafka_broker(settings: Settings) -> KafkaBroker:
    _host, port = settings.kafka.host_port
    return KafkaBroker(
        settings.state_dir,
        settings.cache_dir,
        host="127.0.0.1",
        port=port,
        controller_port=settings.kafka_controller_port,
    )


def clickhouse_server(settings: Settings) -> EmbeddedClickHouse:
    """The embedded server, configured with the local accounts
    (streams/clickhouse/local_accounts.py)."""
    accounts = LocalAccounts.load(settings.state_dir)
    return EmbeddedClickHouse(
        settings.state_dir,
        host="127.0.0.1",
        port=settings.clickhouse_port,
        users_xml=settings.state_dir / "clickhouse" / "users.xml",
        admin_password=accounts.passwords[ADMIN_USER] if accounts else None,
    )


def start_clickhouse(settings: Settings) -> None:
    """Start the embedded server with the administrator and the three journey accounts (their
    passwords made on the first start and kept in the state directory)."""
    accounts = LocalAccounts.ensure(settings.state_dir)
    server = clickhouse_server(settings)
    assert server.users_xml is not None
    server.users_xml.write_text(accounts.users_xml(settings.clickhouse_database))
    server.users_xml.chmod(0o600)
    server.start()


def kafka_is_local(settings: Settings) -> bool:
    return settings.kafka.host_port[0] in LOOPBACK


def clickhouse_is_local(settings: Settings) -> bool:
    return settings.clickhouse_target.is_local


def worker_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("worker", settings.state_dir)


def simulator_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("simulator", settings.state_dir)


def dashboard_process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("dashboard", settings.state_dir)


def worker_command() -> list[str]:
    return [sys.executable, "-m", "streams", "worker"]


def simulator_command(*, backfill: bool, events: int, rate: float) -> list[str]:
    """The demo's traffic: two calibrated years (first time only), then live at ``rate``/s."""
    if backfill:
        return [
            sys.executable,
            "-m",
            "streams",
            "simulate",
            "backfill",
            "--events",
            str(events),
            "--from",
            "2020-01-01",
            "--to",
            "2021-12-31",
            "--then-live",
            str(rate),
        ]
    return [sys.executable, "-m", "streams", "simulate", "live", "--rate", str(rate)]


def dashboard_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(DASHBOARD_APP),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(settings.dashboard_port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        # Streamlit runs a full garbage collection after every page draw; with many readers
        # that alone held the interpreter for a sixth of the time (py-spy, 20 readers).
        "--runner.postScriptGC",
        "false",
        # The pages use no "magic" (bare expressions drawn); not rewriting them saves work.
        "--runner.magicEnabled",
        "false",
    ]


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def worker_readiness(port: int, timeout: float = 5.0) -> tuple[bool, str]:
    """What the worker's /ready page says: ready, or why not (stalled partitions included)."""
    import json
    import urllib.error

    url = f"http://127.0.0.1:{port}/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503: not ready, with the reasons
        try:
            body = json.loads(exc.read())
        except ValueError:
            return False, f"{url} answers {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{url} does not answer ({exc})"
    if body.get("ready"):
        partitions = ", ".join(str(p) for p in body.get("partitions", []))
        return True, f"ready, partitions {partitions}"
    return False, "not ready: " + "; ".join(body.get("reasons") or ["no reason given"])


@dataclass(frozen=True)
class PartStatus:
    """One line of ``journey status``."""

    name: str
    healthy: bool
    detail: str


def records_status(settings: Settings) -> PartStatus:
    """Unhealthy while records the topic deleted before any worker applied them are not
    acknowledged (``journey losses``)."""
    from streams.clickhouse import losses
    from streams.clickhouse.client import connect
    from streams.clickhouse.local_accounts import url_for
    from streams.errors import first_line
    from streams.logic.health import loss_reasons

    try:
        found = losses.pending(losses.read(connect(url_for(settings, "analyst"))))
    except Exception as exc:  # not migrated yet, or no right to read it: say so, do not fail
        return PartStatus("records", True, f"losses not checked ({first_line(exc, 120)})")
    if not found:
        return PartStatus("records", True, "none lost before they were applied")
    by_partition: dict[int, int] = {}
    for (_topic, p), n in found.items():
        by_partition[p] = by_partition.get(p, 0) + n
    return PartStatus("records", False, "; ".join(loss_reasons(by_partition)))


def status(settings: Settings) -> list[PartStatus]:
    """Health of every part: is it running, and does it answer."""
    out: list[PartStatus] = []
    kafka_ok = broker_answers(settings.kafka.bootstrap, 3.0, settings.kafka)
    out.append(
        PartStatus(
            "kafka",
            kafka_ok,
            f"{settings.kafka.bootstrap} {'answers' if kafka_ok else 'does not answer'}",
        )
    )
    if clickhouse_is_local(settings):
        ch_ok = ping("127.0.0.1", settings.clickhouse_port)
    else:
        from streams.clickhouse.client import connect

        try:
            ch_ok = bool(connect(settings.clickhouse_url.get_secret_value()).ping())
        except Exception:
            ch_ok = False
    out.append(
        PartStatus(
            "clickhouse",
            ch_ok,
            f"{settings.masked_clickhouse_url()} {'answers' if ch_ok else 'does not answer'}",
        )
    )
    if ch_ok:
        out.append(records_status(settings))
    worker = worker_process(settings)
    pid = worker.pid()
    if pid is None:
        out.append(PartStatus("worker", False, "not running"))
    else:
        ready, detail = worker_readiness(settings.worker_web_port)
        out.append(PartStatus("worker", ready, f"pid {pid}, {detail}"))
    checks: list[tuple[ManagedProcess, Callable[[], bool], str]] = [
        (
            dashboard_process(settings),
            lambda: http_ok(f"http://127.0.0.1:{settings.dashboard_port}/_stcore/health"),
            f"http://127.0.0.1:{settings.dashboard_port}",
        ),
    ]
    for process, answers, where in checks:
        pid = process.pid()
        if pid is None:
            out.append(PartStatus(process.name, False, "not running"))
        else:
            ok = answers()
            out.append(
                PartStatus(
                    process.name, ok, f"pid {pid}, {where} {'answers' if ok else 'does not answer'}"
                )
            )
    sim = simulator_process(settings).pid()
    if sim is not None:
        out.append(PartStatus("simulator", True, f"pid {sim}"))
    return out
