"""Run every benchmark in this folder, one after the other (``make bench``).

A benchmark is a ``benchmarks/*.py`` script that defines ``main()``; this runner and
``_``-prefixed helpers are skipped. Each runs in its own process with the project's
virtualenv interpreter, from the repository root, under a header. The exit status is
non-zero when any of them fails (a missed target is a failure).

    python benchmarks/run_all.py [NAME ...]   # e.g. ``portal`` to run only that one
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from _common import REPO_ROOT, venv_python

HERE = Path(__file__).resolve().parent


def defines_main(path: Path) -> bool:
    """Whether the script has a module-level ``def main`` (read, not imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main"
        for node in tree.body
    )


def discover() -> list[Path]:
    return [
        path
        for path in sorted(HERE.glob("*.py"))
        if path.name != Path(__file__).name
        and not path.name.startswith("_")
        and defines_main(path)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these benchmarks (file stems)")
    args = parser.parse_args(argv)

    scripts = discover()
    if args.names:
        unknown = set(args.names) - {path.stem for path in scripts}
        if unknown:
            parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
        scripts = [path for path in scripts if path.stem in args.names]

    python = venv_python()
    outcomes: list[tuple[str, int, float]] = []
    for path in scripts:
        name = str(path.relative_to(REPO_ROOT))
        print(f"\n{'=' * 12} {name} {'=' * max(4, 64 - len(name))}", flush=True)
        started = time.perf_counter()
        try:
            returncode = subprocess.run([python, str(path)], cwd=REPO_ROOT).returncode
        except KeyboardInterrupt:
            print(f"\ninterrupted during {name}", file=sys.stderr)
            return 130
        outcomes.append((name, returncode, time.perf_counter() - started))

    print(f"\n{'=' * 12} summary {'=' * 61}")
    for name, returncode, seconds in outcomes:
        verdict = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
        print(f"{name:<40} {verdict:<20} {seconds:7.1f} s")
    failed = [name for name, returncode, _ in outcomes if returncode != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
