"""Publishing simulated traffic: backfill as fast as the broker takes it, or live at a rate."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from streams.publish.pseudonymise import pseudonymiser
from streams.publish.sender import Sender
from streams.settings import Settings
from streams.simulate.generator import SimRecord, Simulator, to_contract


@dataclass
class SimulationReport:
    """What a simulation published, by label."""

    published: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0

    def summary(self) -> str:
        total = sum(self.published.values())
        rate = total / self.elapsed_s if self.elapsed_s else 0.0
        parts = ", ".join(f"{n:,} {label}" for label, n in sorted(self.published.items()))
        return f"published {total:,} records ({parts}) in {self.elapsed_s:.1f}s ({rate:,.0f}/s)"


def record_bytes(record: SimRecord) -> bytes:
    """The Kafka value of a simulated record: contract JSON, or the malformed bytes as they are."""
    if record.raw is not None:
        return record.raw
    assert record.event is not None
    return json.dumps(to_contract(record.event), separators=(",", ":")).encode()


def truth_line(record: SimRecord, value: bytes) -> str:
    """One line of the truth file: the label and what was published."""
    out: dict[str, Any] = {"label": record.label, "key": record.key.decode()}
    if record.raw is not None:
        out["raw_b64"] = base64.b64encode(value).decode()
    else:
        assert record.event is not None
        out["event"] = to_contract(record.event)
    return json.dumps(out, separators=(",", ":"))


def publish_records(
    records: Iterable[SimRecord],
    sender: Sender,
    truth: IO[str] | None = None,
    pace: bool = False,
) -> SimulationReport:
    """Send records in order; with ``pace``, wait until each one's event time has come."""
    report = SimulationReport()
    started = time.monotonic()
    try:
        for record in records:
            if pace:
                delay = record.publish_ms / 1000 - time.time()
                if delay > 0:
                    # Live traffic is a trickle: ship what is batched before waiting, or a
                    # sender that ships full batches only would hold events for minutes.
                    sender.flush()
                    time.sleep(delay)
            value = record_bytes(record)
            sender.send(record.key, value)
            if truth is not None:
                truth.write(truth_line(record, value) + "\n")
            report.published[record.label] += 1
    except KeyboardInterrupt:
        pass
    finally:
        sender.flush()
        if truth is not None:
            truth.flush()
    report.elapsed_s = time.monotonic() - started
    return report


def simulator_for(settings: Settings, seed: int, **kwargs: Any) -> Simulator:
    """A simulator whose customer ids are pseudonymised with the publisher's key."""
    return Simulator(seed=seed, pseudonymise=pseudonymiser(settings), **kwargs)


def open_truth(path: Path | None) -> IO[str] | None:
    return None if path is None else open(path, "w")
