"""Say clearly which service the test suite cannot reach, before pytest starts.

Run as ``python -m scalr_support.preflight``; exits non-zero with one line per
missing service and how to point the suite at it.
"""

import socket
import sys
from urllib.parse import urlsplit

from scalr_support.env import env

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/scalr_support"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3
        ):
            return True
    except OSError:
        return False


def main() -> int:
    checks = [
        (
            "PostgreSQL",
            "DATABASE_URL",
            env.str("DATABASE_URL", default=DEFAULT_DATABASE_URL),
            5432,
        ),
        ("Redis", "REDIS_URL", env.str("REDIS_URL", default=DEFAULT_REDIS_URL), 6379),
    ]
    missing = [
        f"{name} is not reachable at {url} (set {var} to where it runs)"
        for name, var, url, port in checks
        if not _reachable(url, port)
    ]
    for line in missing:
        print(f"make test: {line}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
