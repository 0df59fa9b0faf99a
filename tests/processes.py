"""Run Python in a fresh process, for what only a fresh process shows.

Settings are read once per process, and what a process imports stays imported; a
test of either needs its own interpreter with an environment it controls.
"""

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_python(
    script: str, env: Mapping[str, str], *, drop: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with this interpreter at the repository root (``python -c``)."""
    return run_interpreter(["-c", script], env, drop=drop)


def run_interpreter(
    args: list[str],
    env: Mapping[str, str],
    *,
    drop: tuple[str, ...] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run this interpreter with ``args`` at the repository root.

    The environment is this one without its Django and pytest variables and without
    ``drop``, plus ``env``. Never raises for the exit status: the caller asserts it.
    """
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_")) and key not in drop
    }
    return subprocess.run(  # noqa: S603 - this interpreter, the caller's arguments
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
