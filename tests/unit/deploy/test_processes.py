import sys
from pathlib import Path

import pytest

from deploy.local.processes import LaunchError, ManagedProcess


def test_start_stop_and_pid_file(tmp_path: Path) -> None:
    process = ManagedProcess("sleeper", tmp_path)
    pid = process.start(
        [sys.executable, "-c", "import time; print('hi', flush=True); time.sleep(60)"]
    )
    assert process.pid() == pid
    with pytest.raises(LaunchError, match="already running"):
        process.start([sys.executable, "-c", "pass"])
    assert process.stop(timeout=5)
    assert process.pid() is None
    assert not process.pid_path.exists()
    assert "starting sleeper" in process.log_path.read_text()


def test_process_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    process = ManagedProcess("stubborn", tmp_path)
    process.start(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
        ]
    )
    assert process.stop(timeout=1)
    assert not process.is_running()


def test_wait_until_reports_early_exit_with_log(tmp_path: Path) -> None:
    process = ManagedProcess("crasher", tmp_path)
    process.start([sys.executable, "-c", "import sys; print('boom: bad config'); sys.exit(3)"])
    with pytest.raises(LaunchError, match="boom: bad config"):
        process.wait_until(lambda: False, timeout=10, what="never")


def test_stale_pid_file_is_ignored(tmp_path: Path) -> None:
    process = ManagedProcess("ghost", tmp_path)
    process.pid_path.parent.mkdir(parents=True)
    process.pid_path.write_text("999999")
    assert process.pid() is None
    assert not process.stop()
