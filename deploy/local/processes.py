"""Background processes tracked by pid files and logs under one state directory.

Every local part (broker, ClickHouse server, worker, dashboard) is one ``ManagedProcess``:
``journey up`` starts them detached in their own session, ``journey down`` and the test
fixtures stop them by pid file, so nothing started by the project is left running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Re-exported: the local parts raise it from here; it lives with the CLI's other errors.
from streams.errors import LaunchError as LaunchError


@dataclass(frozen=True)
class ManagedProcess:
    """A named background process whose pid and log live in ``state_dir``."""

    name: str
    state_dir: Path

    @property
    def pid_path(self) -> Path:
        return self.state_dir / "run" / f"{self.name}.pid"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        """The recorded pid if that process is still alive, else None (and a stale file removed)."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _alive(pid):
            return pid
        self.pid_path.unlink(missing_ok=True)
        return None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> int:
        """Start ``command`` detached, stdout and stderr appended to the log; return its pid."""
        if (pid := self.pid()) is not None:
            raise LaunchError(f"{self.name} is already running (pid {pid}, {self.pid_path})")
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a Ctrl-C in the terminal that ran `journey up` does not reach it,
                # and `down` can signal the whole group (the JVM, streamlit's children).
                start_new_session=True,
            )
        self.pid_path.write_text(str(process.pid))
        return process.pid

    def wait_until(
        self, ready: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.25
    ) -> None:
        """Poll ``ready`` until true; fail with the log's tail if the process dies or hangs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise LaunchError(f"{self.name} exited while starting; {self.log_tail()}")
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(interval)
        raise LaunchError(
            f"{self.name} did not become ready ({what}) in {timeout:.0f}s; {self.log_tail()}"
        )

    def stop(self, *, timeout: float = 30.0, sig: int = signal.SIGTERM) -> bool:
        """Signal the process group, wait for it to exit, SIGKILL after ``timeout``.

        Returns True if something was running.
        """
        pid = self.pid()
        if pid is None:
            return False
        _signal_group(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self.pid_path.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return f"no log at {self.log_path}"
        return f"log {self.log_path} ends with:\n" + "\n".join(text)


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our own exited child, so it does not linger as a zombie.
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
