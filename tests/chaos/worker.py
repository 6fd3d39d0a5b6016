"""`journey worker` with a fault point (the chaos suite's, never the product's):

    JOURNEY_FAULT=<mode>:<n> python -m tests.chaos.worker [worker] [--loglevel info]

The same supervisor and worker process as `journey worker`, with ``FaultySink`` in place of the
ClickHouse sink (and, for ``stopcatchup``, a fault point in the customers stage's catch-up;
``tests/chaos/faults.py`` lists the modes).
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial

from streams.agents.journey_store import JourneyStates
from streams.settings import load_settings
from streams.worker import CHILD_FLAG, run_worker, supervise
from tests.chaos.faults import FaultySink, InsertFault, stop_in_catch_up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", nargs="?", default="worker", choices=["worker"])
    parser.add_argument("--loglevel", default="info")
    args = parser.parse_args()
    fault = InsertFault.from_env()
    if fault is None:
        parser.error("JOURNEY_FAULT is not set: run `journey worker` for a worker without one")
    if os.environ.get(CHILD_FLAG):
        if fault.mode == "stopcatchup":
            JourneyStates.catch_up = stop_in_catch_up(JourneyStates.catch_up)  # type: ignore[method-assign]
        return run_worker(load_settings(), args.loglevel, partial(FaultySink, fault=fault))
    return supervise(args.loglevel, module="tests.chaos.worker")


if __name__ == "__main__":
    sys.exit(main())
