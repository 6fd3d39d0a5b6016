"""Errors the CLI turns into one readable line instead of a traceback."""

from __future__ import annotations


def first_line(error: BaseException | str, limit: int = 400) -> str:
    """The first line of an error, at most ``limit`` characters (its type's name when it says
    nothing): what a log line or a one-line CLI message shows of it."""
    text = str(error).strip()
    if not text:
        return type(error).__name__ if isinstance(error, BaseException) else "unknown"
    return text.splitlines()[0][:limit]


class JourneyError(Exception):
    """Base of the errors that carry a message meant for the person at the terminal."""


class LaunchError(RuntimeError):
    """A local part could not be started; the message says what and where its log is (raised
    by ``deploy.local``, reported by the CLI: declared here so the CLI needs nothing of the
    local stack until a command uses it)."""


class ServiceUnreachable(JourneyError):
    """An external system (Kafka, ClickHouse) could not be reached."""

    def __init__(self, system: str, where: str, cause: BaseException | str) -> None:
        self.system = system
        self.where = where
        super().__init__(f"cannot reach {system} at {where}: {first_line(cause)}")


# A worker process exits with this to be restarted by `journey worker` (streams/worker.py).
RESTART_EXIT_CODE = 70
# A worker process exits with this when it cannot go on without an operator (ClickHouse refuses
# the statement itself); `journey worker` passes it on instead of restarting.
STOP_EXIT_CODE = 78
