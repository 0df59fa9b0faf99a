"""How long a newcomer waits for `make run`: a fresh clone, then a second start.

    python benchmarks/make_run_start.py [--port 8614] [--smtp-port 2614] [--keep]

Clones this repository's HEAD into a temporary folder, runs ``make run`` there with
nothing in the environment (the embedded default: SQLite, filesystem broker, mail
to files) on its own ports, and times how long the login page takes to answer
200: the first start creates the virtualenv, installs, migrates and seeds; the
second finds all that done. Each stack is stopped as Ctrl-C would (SIGINT to its
process group). Then ``kill -9`` of the Celery worker must leave the login page
answering and the worker restarted. Targets (issue 14): first start < 120 s,
second < 20 s; a miss exits non-zero.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import REPO_ROOT

FIRST_TARGET = 120.0
SECOND_TARGET = 20.0
TIMEOUT = 600.0
# What `make run` must not inherit from a developer's shell or the test runner.
SCRUBBED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", "SITE_URL")


def login_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/accounts/login/", timeout=2
        ) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(clone: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group, so SIGINT reaches it like Ctrl-C
    )


def timed_start(
    clone: Path, env: dict[str, str], port: int, log: Path
) -> tuple[float, subprocess.Popen[bytes]]:
    began = time.monotonic()
    stack = start(clone, env, log)
    while not login_answers(port):
        if stack.poll() is not None:
            sys.exit(f"make run exited ({stack.returncode}); see {log}")
        if time.monotonic() - began > TIMEOUT:
            stop(stack)
            sys.exit(f"no login page after {TIMEOUT:.0f} s; see {log}")
        time.sleep(0.25)
    return time.monotonic() - began, stack


def stop(stack: subprocess.Popen[bytes]) -> float:
    began = time.monotonic()
    os.killpg(stack.pid, signal.SIGINT)
    try:
        stack.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(stack.pid, signal.SIGKILL)
        stack.wait()
    return time.monotonic() - began


def worker_pid(clone: Path) -> int | None:
    """The Celery worker's main process of this clone's stack (not its pool)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = Path(os.readlink(entry / "cwd"))
            parent = int((entry / "stat").read_text().split(")")[1].split()[1])
            parent_argv = Path(f"/proc/{parent}/cmdline").read_bytes()
        except OSError:
            continue
        if (
            cwd == clone
            and b"worker" in argv
            and len(argv) > 1
            and argv[1].endswith(b"bin/celery")  # python .venv/bin/celery ...
            and b"scalr_support.keepalive" in parent_argv
        ):
            return int(entry.name)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8614)
    parser.add_argument("--smtp-port", type=int, default=2614)
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="scalr-support-fresh-"))
    clone = folder / "clone"
    subprocess.run(
        ["git", "clone", "-q", str(REPO_ROOT), str(clone)],
        check=True,
    )
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        PORT=str(args.port),
        SMTP_PORT=str(args.smtp_port),
        DJANGO_SETTINGS_MODULE="scalr_support.settings.local",
    )
    env.pop("VIRTUAL_ENV", None)
    try:
        first, stack = timed_start(clone, env, args.port, folder / "first.log")
        first_stop = stop(stack)
        second, stack = timed_start(clone, env, args.port, folder / "second.log")
        pid = None
        deadline = time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:
            time.sleep(0.5)
            pid = worker_pid(clone)
        time.sleep(3)  # let it connect to the broker before it is killed
        restarted = False
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not restarted:
                time.sleep(0.5)
                again = worker_pid(clone)
                restarted = again is not None and again != pid
        serving = login_answers(args.port)
        second_stop = stop(stack)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    print(
        f"first `make run` on a fresh clone: login page after {first:6.1f} s "
        f"(target < {FIRST_TARGET:.0f} s); stopped in {first_stop:.1f} s"
    )
    print(
        f"second `make run`:                 login page after {second:6.1f} s "
        f"(target < {SECOND_TARGET:.0f} s); stopped in {second_stop:.1f} s"
    )
    print(
        f"kill -9 of the worker: restarted {'yes' if restarted else 'NO'}, "
        f"login page {'still answers' if serving else 'DOWN'}"
    )
    if first >= FIRST_TARGET or second >= SECOND_TARGET or not restarted or not serving:
        sys.exit(1)


if __name__ == "__main__":
    main()
