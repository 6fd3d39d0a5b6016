"""Fault points for the chaos suite (``make chaos``, tests/chaos), nowhere in the product: the
suite starts faulty workers with ``python -m tests.chaos.worker``, which is ``journey worker``
with :class:`FaultySink` in place of the ClickHouse sink.

``JOURNEY_FAULT=<mode>:<n>`` acts at the worker process's n-th insert of a batch:

- ``before``: SIGKILL itself right before sending the insert;
- ``during``: SIGKILL itself a few milliseconds after the insert started (while it is in
  flight, for a batch of any size);
- ``after``: SIGKILL itself right after ClickHouse took the insert, before the batch is
  acknowledged to Kafka;
- ``stop``: SIGSTOP itself right before sending the n-th insert, a batch in hand (the chaos
  suite wakes it with SIGCONT once its partitions have moved on: a zombie);
- ``stopcatchup``: SIGSTOP itself as its customers stage first reads the changelog's tail
  (n ignored), between reading what ClickHouse holds and catching its store up (a zombie
  woken mid-refresh: the changelog it reads then holds the new owner's states, newer than the
  progress it read; it must find itself fenced, not decide on both);
- ``double`` (n ignored): insert every batch a second time under another token, a broken sink
  that the chaos suite's negative control must catch.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from streams.sinks.clickhouse import Batch, ClickHouseSink, Landed

MODES = ("before", "during", "after", "stop", "stopcatchup", "double")
FAULT_TABLE = "ingest_facts"  # only the batches of events count as inserts
DURING_DELAY_S = 0.003


@dataclass(frozen=True)
class InsertFault:
    """Where the process hurts itself."""

    mode: str
    at: int = 1

    @classmethod
    def from_env(cls) -> InsertFault | None:
        """The fault ``JOURNEY_FAULT`` asks for, or None."""
        text = os.environ.get("JOURNEY_FAULT", "").strip()
        if not text:
            return None
        mode, _, at = text.partition(":")
        if mode not in MODES or (at and not at.isdigit()):
            raise ValueError(
                f"JOURNEY_FAULT={text!r}: expected <mode>:<n> with mode one of {', '.join(MODES)}"
            )
        return cls(mode, int(at or 1))

    def fires(self, mode: str, insert_number: int) -> bool:
        """Whether this fault acts at this point of this insert."""
        return self.mode == mode and (mode == "double" or insert_number == self.at)


def kill_self() -> None:
    """SIGKILL this process: no cleanup, no flush, as a machine failure would."""
    os.kill(os.getpid(), signal.SIGKILL)


def stop_self() -> None:
    """SIGSTOP this process; it carries on where it stopped when someone sends SIGCONT."""
    os.kill(os.getpid(), signal.SIGSTOP)


def kill_self_soon() -> None:
    """SIGKILL this process from another thread in ``DURING_DELAY_S``."""
    threading.Timer(DURING_DELAY_S, kill_self).start()


def stop_in_catch_up(catch_up: Callable[..., Any]) -> Callable[..., Any]:
    """``JourneyStates.catch_up`` with the ``stopcatchup`` fault point: the process stops once,
    the first time its customers stage catches its store up."""
    done = threading.Event()

    async def faulty(self: Any, *args: Any, **kwargs: Any) -> Any:
        if "customers" in self.changelog and not done.is_set():
            done.set()
            stop_self()
        return await catch_up(self, *args, **kwargs)

    return faulty


class FaultySink(ClickHouseSink):
    """The ClickHouse sink with a fault point around its inserts of events."""

    def __init__(self, *args: Any, fault: InsertFault, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fault = fault
        self.inserts = 0

    async def write(self, batch: Batch, landed: Landed | None = None) -> int:
        """Hurt the process where the fault says, around the real insert."""
        if not batch.size or batch.table != FAULT_TABLE:
            return await super().write(batch, landed)
        self.inserts += 1
        fault, n = self.fault, self.inserts
        if fault.fires("before", n):
            kill_self()
        if fault.fires("stop", n):
            stop_self()
        if fault.fires("during", n):
            kill_self_soon()
        failures = await super().write(batch, landed)
        if fault.fires("after", n):
            kill_self()
        if fault.fires("double", n):  # a broken sink: the same rows under another token
            await super().write(replace(batch, token=batch.token + "/again"))
        return failures
