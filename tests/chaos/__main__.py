"""`make chaos`: every scenario of the fault-injection matrix at full size, a Markdown report.

    python -m tests.chaos [--short] [--only sigkill_loop,zombie_sigstop] [--report PATH]

Exit status 0 only if every scenario passed (exact, and the negative control detected).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.chaos.scenarios import FULL, SCENARIOS, SHORT, Outcome, lab_running, report, run


def main() -> int:
    parser = argparse.ArgumentParser(description="The fault-injection matrix.")
    parser.add_argument("--short", action="store_true", help="the test command's sizes")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--report", type=Path, default=Path("build/chaos.md"))
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    size, size_name = (SHORT, "short") if args.short else (FULL, "full")
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp, lab_running(Path(tmp)) as lab:
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
