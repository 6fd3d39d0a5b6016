"""The floor of any Faust agent here: one that only counts its records (not a test).

Run by ``bench_pipeline``: ``python -m tests.bench.faust_floor BOOTSTRAP TOPIC TOTAL PORT DIR``.
Same app as the worker (streams/app.py: the ``journey`` transport, one event per fetched
partition batch, acknowledged as the worker acknowledges); prints the records/s between the
first and the last batch, then exits.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from streams.agents.faust_batches import decided
from streams.app import create_app
from streams.settings import Settings


def main() -> None:
    bootstrap, topic, total, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    settings = Settings(
        kafka={"bootstrap": bootstrap},
        app_id=f"faust-floor-{os.getpid()}",
        worker_web_port=port,
        state_dir=Path(sys.argv[5]),
        _env_file=None,
    )
    app = create_app(settings)
    source = app.topic(topic, key_type=bytes, value_type=bytes, value_serializer="raw")
    seen = 0
    started = 0.0

    @app.agent(source)
    async def count(stream: Any) -> None:
        nonlocal seen, started
        async for events in stream.noack_take(48, within=1.0):
            if not started:
                started = time.monotonic()
            batch = sum(len(e.message.offsets) for e in events)
            seen += batch
            for event in events:
                decided(event.message)
                event.ack()
            if seen >= total:
                rate = (seen - batch) / (time.monotonic() - started)
                os.write(1, f"FLOOR {rate:.0f}\n".encode())  # Faust redirects print()
                os._exit(0)

    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]  # Faust's own CLI reads argv
    app.main()


if __name__ == "__main__":
    main()
