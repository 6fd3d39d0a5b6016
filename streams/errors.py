"""Errors the CLI turns into one readable line instead of a traceback."""

from __future__ import annotations


class JourneyError(Exception):
    """Base of the errors that carry a message meant for the person at the terminal."""


class ServiceUnreachable(JourneyError):
    """An external system (Kafka, ClickHouse) could not be reached."""

    def __init__(self, system: str, where: str, cause: BaseException | str) -> None:
        self.system = system
        self.where = where
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        super().__init__(f"cannot reach {system} at {where}: {reason}")


# A worker process exits with this to be restarted by `journey worker` (streams/worker.py).
RESTART_EXIT_CODE = 70
# A worker process exits with this when it cannot go on without an operator (ClickHouse refuses
# the statement itself); `journey worker` passes it on instead of restarting.
STOP_EXIT_CODE = 78
