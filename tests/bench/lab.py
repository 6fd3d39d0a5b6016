"""The benchmarks' own broker and embedded ClickHouse, on free ports, with a database migrated
and the project's topics created (not a test)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.local.clickhouse_server import EmbeddedClickHouse
from deploy.local.kafka_broker import KafkaBroker
from deploy.local.processes import ManagedProcess
from streams.clickhouse.migrations import migrate
from streams.kafka.admin import ensure_topics, project_topics
from streams.settings import Settings
from tests.support import clickhouse_scratch, free_port

CACHE = Path.home() / ".cache" / "journey-telemetry"


@dataclass
class BenchLab:
    """What a benchmark runs against; ``worker`` is stopped when the lab closes."""

    state: Path
    clickhouse: EmbeddedClickHouse
    broker: KafkaBroker
    settings: Settings
    worker: ManagedProcess

    @property
    def url(self) -> str:
        """The benchmark database's URL (the administrator's)."""
        return self.settings.clickhouse_url.get_secret_value()


@contextmanager
def bench_lab(database: str) -> Iterator[BenchLab]:
    """Start a broker and ClickHouse in a temporary directory; stop everything at the end."""
    with tempfile.TemporaryDirectory() as tmp, clickhouse_scratch() as data_root:
        state = Path(tmp)
        clickhouse = EmbeddedClickHouse(state, port=free_port(), data_root=data_root)
        broker = KafkaBroker(state, CACHE, port=free_port(), controller_port=free_port())
        clickhouse.start()
        broker.start()
        worker = ManagedProcess("worker", state / "run")
        try:
            settings = Settings(
                kafka={"bootstrap": broker.bootstrap},
                clickhouse_url=f"{clickhouse.url}/{database}",
                state_dir=state / "run",
                cache_dir=CACHE,
                worker_web_port=free_port(),
                _env_file=None,
            )
            migrate(settings.clickhouse_url.get_secret_value())
            ensure_topics(settings.kafka.bootstrap, project_topics(settings))
            yield BenchLab(state, clickhouse, broker, settings, worker)
        finally:
            worker.stop(timeout=60)
            broker.stop()
            clickhouse.stop()
