"""`make chaos`: every scenario of the fault-injection matrix at full size, a Markdown report.

    python -m tests.chaos [--short] [--only sigkill_loop,zombie_sigstop] [--report PATH]
                          [--keep DIR]

``--keep DIR`` runs the lab in DIR and leaves it there: every worker's log and state, the
broker's and ClickHouse's data, to read after a scenario failed.

Exit status 0 only if every scenario passed (exact, and the negative control detected).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from tests.chaos.scenarios import FULL, SCENARIOS, SHORT, Outcome, lab_running, report, run


def main() -> int:
    parser = argparse.ArgumentParser(description="The fault-injection matrix.")
    parser.add_argument("--short", action="store_true", help="the test command's sizes")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--report", type=Path, default=Path("build/chaos.md"))
    parser.add_argument("--keep", type=Path, help="run the lab in this directory, kept after")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    size, size_name = (SHORT, "short") if args.short else (FULL, "full")
    outcomes: list[Outcome] = []
    with contextlib.ExitStack() as stack:
        root = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        lab = stack.enter_context(lab_running(root))
        for name in names:
            if isinstance(lab, str):  # the broker or ClickHouse did not start
                outcomes.append(Outcome(name, "", verdict="infrastructure failed", detail=lab))
                continue
            print(f"running {name} ...", flush=True)
            outcome = run(lab, name, size)
            print(f"  {outcome.verdict} in {outcome.seconds:.0f} s {outcome.detail}", flush=True)
            outcomes.append(outcome)
    text = report(outcomes, size_name)
    print(text)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text)
    print(f"report written to {args.report}")
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
