"""Fault points for the chaos suite (``make chaos``, tests/chaos): off unless ``JOURNEY_FAULT``
is set, which only the suite does.

``JOURNEY_FAULT=<mode>:<n>`` acts at the worker process's n-th insert of a batch:

- ``before``: SIGKILL itself right before sending the insert;
- ``during``: SIGKILL itself a few milliseconds after the insert started (while it is in
  flight, for a batch of any size);
- ``after``: SIGKILL itself right after ClickHouse took the insert, before the batch is
  acknowledged to Kafka;
- ``stop``: SIGSTOP itself right before sending the n-th insert, a batch in hand (the chaos
  suite wakes it with SIGCONT once its partitions have moved on: a zombie);
- ``double`` (n ignored): insert every batch a second time under another token, a broken sink
  that the chaos suite's negative control must catch.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass

MODES = ("before", "during", "after", "stop", "double")
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
