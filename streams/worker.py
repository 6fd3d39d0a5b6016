"""``journey worker``: the Faust worker process with its agents and the ClickHouse sink."""

from __future__ import annotations

from collections.abc import Callable

from streams.agents import alert_timer, interactions
from streams.app import create_app
from streams.clickhouse.client import connect
from streams.clickhouse.local_accounts import url_for
from streams.errors import RESTART_EXIT_CODE
from streams.kafka.admin import ensure_topics, project_topics, require_broker
from streams.kafka.batch_sender import BatchProducer
from streams.kafka.topic_reader import TopicReader
from streams.logic.aggregate import Rules
from streams.logic.customers import windows_of
from streams.settings import Settings
from streams.sinks.clickhouse import ClickHouseSink
from streams.topics import declare as declare_topics


def run_worker(
    settings: Settings,
    loglevel: str = "info",
    sink_type: Callable[..., ClickHouseSink] = ClickHouseSink,
) -> int:
    """Check both systems answer, then run the worker until SIGTERM/SIGINT. ``sink_type``
    makes the sink from a client factory (the chaos suite passes a faulty one)."""
    import faust

    url = url_for(settings, "worker")
    connect(url).close()  # fail fast, with one readable line, if ClickHouse is unreachable
    require_broker(settings.kafka.bootstrap, security=settings.kafka)
    ensure_topics(settings.kafka.bootstrap, project_topics(settings), security=settings.kafka)

    app = create_app(settings)
    topics_ = declare_topics(app, settings)
    sink = sink_type(lambda: connect(url))
    rules = Rules(
        grace_ms=round(settings.late_grace_s * 1000),
        journey_ttl_ms=round(settings.journey_state_days * 86_400_000),
    )
    producer = BatchProducer(settings.kafka.bootstrap, settings.kafka)
    tail = TopicReader(settings.kafka.bootstrap, settings.kafka)
    windows = windows_of(settings)
    interactions.register(
        app,
        topics_,
        sink,
        rules,
        producer,
        stall_after_s=settings.stall_after_s,
        tail=tail,
        windows=windows,
        run=settings.stages,
    )
    alert_timer.register(app, settings, lambda: connect(url))
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0


CHILD_FLAG = "JOURNEY_WORKER_PROCESS"


def supervise(loglevel: str = "info", module: str = "streams") -> int:
    """Run the worker in a child process (``python -m <module> worker``) and restart it when it
    asks to be (exit code 70).

    The agent exits on purpose when Kafka skipped records under it; a fresh process seeks
    back to what ClickHouse holds. SIGTERM and SIGINT are passed on to the child."""
    import os
    import signal
    import subprocess
    import sys
    import time

    # Two malloc arenas, not eight per core: the worker frees whole flushes at a time, and
    # memory freed in an arena another thread used stays resident. With the flush in flight
    # holding only its encoded insert, peak RSS at 1 million journeys went from 691 to 566 MB
    # (make bench-state).
    # A fixed mmap threshold: glibc otherwise raises it each time a large block is freed (up
    # to 32 MB), and from then on serves a flush's large buffers (lists of 50,000 references,
    # the encoded insert) from the heap, where they fragment it and stay resident. At 6
    # million live journeys the peak was 581 MB without it and 518 MB with it, and the worker
    # was no slower (22,048 and 21,269 journeys/s).
    env = {
        "MALLOC_ARENA_MAX": "2",
        "MALLOC_MMAP_THRESHOLD_": str(256 * 1024),
        **os.environ,
        CHILD_FLAG: "1",
    }
    command = [sys.executable, "-m", module, "worker", "--loglevel", loglevel]
    while True:
        child = subprocess.Popen(command, env=env)

        def forward(signum: int, _frame: object, child: subprocess.Popen[bytes] = child) -> None:
            child.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        code = child.wait()
        if code != RESTART_EXIT_CODE:
            return code
        print("journey worker: restarting the worker process", file=sys.stderr, flush=True)
        time.sleep(1.0)
