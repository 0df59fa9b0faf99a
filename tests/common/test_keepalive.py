"""`make run`'s processes: a crashed one is started again; Ctrl-C stops them."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# Counts its starts in a file; the first start kills itself like `kill -9`.
CRASH_ONCE = """
import os, pathlib, sys, time
path = pathlib.Path(sys.argv[1])
starts = int(path.read_text()) + 1 if path.exists() else 1
path.write_text(str(starts))
if starts == 1:
    os.kill(os.getpid(), 9)
time.sleep(60)
"""


def keepalive(*command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "scalr_support.keepalive", "worker", "--", *command],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_process_killed_with_sigkill_is_started_again(tmp_path):
    starts = tmp_path / "starts"
    supervisor = keepalive(sys.executable, "-c", CRASH_ONCE, str(starts))
    try:
        assert wait_for(lambda: starts.exists() and starts.read_text() == "2")
        assert supervisor.poll() is None  # the stack keeps running
    finally:
        supervisor.send_signal(signal.SIGTERM)
        output, _ = supervisor.communicate(timeout=30)

    assert supervisor.returncode == 0
    assert "exited with signal 9; starting it again" in output


def test_a_process_that_cannot_start_stops_the_stack_with_a_reason(tmp_path):
    supervisor = keepalive(sys.executable, "-c", "raise SystemExit(3)")
    output, _ = supervisor.communicate(timeout=60)

    assert supervisor.returncode == 1
    assert "exited with status 3, 5 times within a minute; giving up" in output


def test_sigint_stops_the_process_and_does_not_restart_it(tmp_path):
    starts = tmp_path / "starts"
    starts.write_text("1")  # not the first start: no self-kill
    supervisor = keepalive(sys.executable, "-c", CRASH_ONCE, str(starts))
    assert wait_for(lambda: starts.read_text() == "2")

    supervisor.send_signal(signal.SIGINT)
    output, _ = supervisor.communicate(timeout=30)

    assert supervisor.returncode == 0
    assert starts.read_text() == "2"
    assert "starting it again" not in output
