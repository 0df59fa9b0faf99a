"""Helpers shared by the benchmarks (not a benchmark itself: run_all.py skips ``_*``).

- ``Gunicorn``: the real WSGI stack on a free loopback port, stopped on exit.
- ``run_requests``/``run_load``: a keep-alive HTTP/1.1 load generator in a separate
  process (prebuilt requests, or GETs of paths).
- ``percentile`` and ``format_table`` for the printed figures.
- ``host_reference_ms``: how fast this host runs a fixed Python workload today.
- ``RedisServer``, ``MailSink`` and ``BackgroundProcess``: a private broker, a
  loopback sink for outgoing mail and the product's long-running processes, and
  ``process_tree``/``rss_kib`` to measure their memory.

Only loopback traffic: every address here is 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import multiprocessing
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every benchmark runs as a script from benchmarks/, so it can import this module;
# importing it puts the project first on the path. First, not just on it:
# benchmarks/sla.py is named like the ``sla`` package it measures.
sys.path.insert(0, str(REPO_ROOT))
BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = REPO_ROOT / ".venv" / "bin"
HOST = "127.0.0.1"


def venv_python() -> str:
    """The project's virtualenv interpreter, else the one running this script."""
    candidate = VENV_BIN / "python"
    return str(candidate) if candidate.exists() else sys.executable


def venv_tool(name: str) -> str:
    """A console script of the virtualenv (gunicorn, ...), else from PATH."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


def command_line() -> str:
    """How this process was started, for the printed report."""
    return shlex.join(["python", *sys.argv])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


_REFERENCE_EMAIL = (
    b"From: Ana Customer <ana@customer.example.com>\r\n"
    b"To: Scalr Support <support@support.example.com>\r\n"
    b"Subject: =?utf-8?q?Re=3A_=5B=2342=5D_Stuck_in_=E2=80=9Cpending=E2=80=9D?=\r\n"
    b"Date: Fri, 27 Nov 2026 09:30:00 +0000\r\n"
    b"Message-ID: <reference.1@customer.example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    + b"Restarting the agent fixed it, thank you.=0D=0A\r\n"
    * 20
)


def host_reference_ms(rounds: int = 3, parses: int = 500) -> float:
    """CPU milliseconds this host needs for a fixed workload with none of our code.

    Hosts of one machine kind differed by more than two times between runs on the
    same day (docs/email.md), so absolute figures of two runs compare only next to
    this one. The workload, the standard library parsing one email ``parses`` times,
    is close to what our per-message Python does. Best of ``rounds``: a busy moment
    only makes a round slower.
    """
    from email import message_from_bytes, policy

    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(parses):
            message = message_from_bytes(_REFERENCE_EMAIL, policy=policy.default)
            _ = message["From"].addresses, str(message["Subject"])
            message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        best = min(best, time.process_time() - started)
    return best * 1000


def verdict(missed: Sequence[str]) -> int:
    """Print whether every target was met; the exit status to return (1: missed)."""
    print("\n" + ("FAIL: " + "; ".join(missed) if missed else "PASS: every target met"))
    return 1 if missed else 0


def run_main(main: Callable[[], int]) -> NoReturn:
    """A benchmark's entry point: its exit status, and 130 without a traceback on
    Ctrl-C (the ``finally`` blocks have stopped what the run started)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def manage(
    *args: str, env: Mapping[str, str], quiet: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py <args>`` with the venv interpreter; raise with its output."""
    result = subprocess.run(
        [venv_python(), str(REPO_ROOT / "manage.py"), *args],
        cwd=REPO_ROOT,
        env=dict(env),
        capture_output=quiet,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout or "") + (result.stderr or "")
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{output}")
    return result


# --- gunicorn -----------------------------------------------------------------------


class Gunicorn:
    """``gunicorn <app>`` on a free loopback port for the duration of a ``with``.

    Its output goes to a temporary log, shown when it fails to start. Stopping sends
    SIGTERM to its process group (master and workers), then SIGKILL after a grace
    period, so nothing outlives the benchmark, on errors and Ctrl-C included.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        app: str = "scalr_support.wsgi",
        workers: int = 2,
        extra_args: Sequence[str] = (),
        ready_path: str = "/",
        start_timeout: float = 30.0,
    ) -> None:
        self.env = dict(env)
        self.app = app
        self.workers = workers
        self.extra_args = list(extra_args)
        self.ready_path = ready_path
        self.start_timeout = start_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="bench-gunicorn-", suffix=".log", delete=False
        )

    @property
    def argv(self) -> list[str]:
        return [
            venv_tool("gunicorn"),
            self.app,
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            *self.extra_args,
        ]

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C is ours to relay
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                status, _, _ = http_get(self.port, self.ready_path, timeout=2)
            except OSError:
                time.sleep(0.1)
                continue
            if status < 500:
                return
            raise RuntimeError(f"gunicorn answers {status} on {self.ready_path}")
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {self.start_timeout}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        if not self._log.closed:
            self._log.close()

    def pids(self) -> list[int]:
        """The master and its workers."""
        if self.process is None:
            return []
        return [self.process.pid, *child_pids(self.process.pid)]

    def log(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")[-5000:]


def http_get(
    port: int,
    path: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, http.client.HTTPMessage, str]:
    """One GET on loopback: (status, headers, body as text)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        body = response.read().decode("utf-8", errors="replace")
        return response.status, response.headers, body
    finally:
        connection.close()


# --- CPU accounting ---------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user+system CPU seconds) of a process, from /proc (Linux)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks


def child_pids(parent: int) -> list[int]:
    """Direct children of a process (Linux /proc scan; empty elsewhere)."""
    children = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None and stat[0] == parent:
                children.append(int(entry.name))
    return children


def postgres_backend_pids(dsn: str) -> list[int]:
    """Server processes of the other sessions on dsn's database (same host only)."""
    import psycopg2

    connection = psycopg2.connect(dsn)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


class CpuMeter:
    """CPU seconds used by a changing set of processes between two samples.

    Unlike requests/second, CPU time per request does not depend on what else the
    machine is doing, so it tells whether a slow figure is the page or the host.
    """

    def __init__(self, pids: Callable[[], Iterable[int]]) -> None:
        self._pids = pids

    def sample(self) -> dict[int, float] | None:
        try:
            pids = list(self._pids())
        except Exception:  # accounting is best effort, never fatal
            return None
        usage = {}
        for pid in pids:
            stat = _proc_stat(pid)
            if stat is not None:
                usage[pid] = stat[1]
        return usage or None

    def since(self, before: dict[int, float] | None) -> float | None:
        after = self.sample()
        if before is None or after is None:
            return None
        return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


# --- load generation ----------------------------------------------------------------


@dataclass
class LoadResult:
    """What one load run measured (after the warm-up)."""

    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]  # sorted
    errors: Counter[str] = field(default_factory=Counter)
    response_bytes: int = 0
    client_cpu_seconds: float = 0.0
    connections_opened: int = 0
    total_requests: int = 0  # warm-up included, to divide CPU time by
    server_cpu_seconds: float | None = None  # see CpuMeter; None when unknown

    def merge(self, other: LoadResult) -> LoadResult:
        """Both runs of the same page as one (e.g. interleaved rounds)."""
        server_cpu = (
            None
            if self.server_cpu_seconds is None or other.server_cpu_seconds is None
            else self.server_cpu_seconds + other.server_cpu_seconds
        )
        return LoadResult(
            name=self.name,
            requests=self.requests + other.requests,
            seconds=self.seconds + other.seconds,
            latencies_ms=sorted(self.latencies_ms + other.latencies_ms),
            errors=self.errors + other.errors,
            response_bytes=self.response_bytes + other.response_bytes,
            client_cpu_seconds=self.client_cpu_seconds + other.client_cpu_seconds,
            connections_opened=self.connections_opened + other.connections_opened,
            total_requests=self.total_requests + other.total_requests,
            server_cpu_seconds=server_cpu,
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def p(self, fraction: float) -> float:
        return percentile(self.latencies_ms, fraction)

    @property
    def mean_response_kb(self) -> float:
        return self.response_bytes / self.requests / 1024 if self.requests else 0.0

    @property
    def client_cpu_ms_per_request(self) -> float:
        total = self.total_requests or self.requests
        return 1000 * self.client_cpu_seconds / total if total else 0.0

    @property
    def server_cpu_ms_per_request(self) -> float | None:
        total = self.total_requests or self.requests
        if self.server_cpu_seconds is None or not total:
            return None
        return 1000 * self.server_cpu_seconds / total


def build_request(port: int, path: str, headers: Mapping[str, str]) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "User-Agent: scalr-support-bench",
        "Accept: text/html",
        "Accept-Encoding: identity",
        "Connection: keep-alive",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, int]:
    """Read one response: (status, connection stays open, body bytes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    version, status_text = lines[0].split(b" ", 2)[:2]
    keep_alive = version == b"HTTP/1.1"
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep_alive = value.strip().lower() != b"close"
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    size = 0
    if chunked:
        while True:
            chunk_size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk_size + 2)
            size += chunk_size
            if chunk_size == 0:
                break
    elif length is not None:
        size = len(await reader.readexactly(length))
    else:
        size = len(await reader.read())
        keep_alive = False
    return int(status_text), keep_alive, size


async def _connection_loop(
    requests: Sequence[bytes],
    offset: int,
    port: int,
    measure_from: float,
    deadline: float,
    timeout: float,
    stats: dict[str, object],
) -> None:
    """One client connection: request after request until the deadline.

    A response with ``Connection: close`` (gunicorn's sync workers always send it)
    makes the next request reconnect; that connect time is part of its latency,
    as it would be for a browser.
    """
    latencies: list[float] = stats["latencies"]  # type: ignore[assignment]
    errors: Counter[str] = stats["errors"]  # type: ignore[assignment]
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    index = offset
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        measured = started >= measure_from
        request = requests[index % len(requests)]
        index += 1
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(HOST, port), timeout
                )
                stats["connections"] += 1  # type: ignore[operator]
            assert reader is not None
            writer.write(request)
            status, keep_alive, size = await asyncio.wait_for(
                _read_response(reader), timeout
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as e:
            if measured:
                errors[type(e).__name__] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        elapsed = time.perf_counter() - started
        stats["total"] += 1  # type: ignore[operator]
        if measured:
            latencies.append(elapsed * 1000)
            stats["bytes"] += size  # type: ignore[operator]
            if status != 200:
                errors[f"HTTP {status}"] += 1
        if not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _load(
    requests: Sequence[bytes],
    port: int,
    concurrency: int,
    warmup: float,
    duration: float,
    timeout: float,
) -> dict[str, object]:
    stats: dict[str, object] = {
        "latencies": [],
        "errors": Counter(),
        "bytes": 0,
        "connections": 0,
        "total": 0,
    }
    now = time.perf_counter()
    measure_from = now + warmup
    deadline = measure_from + duration
    step = max(1, len(requests) // max(concurrency, 1))
    await asyncio.gather(
        *(
            _connection_loop(
                requests, i * step, port, measure_from, deadline, timeout, stats
            )
            for i in range(concurrency)
        )
    )
    stats["seconds"] = duration
    return stats


def _load_process(
    conn: multiprocessing.connection.Connection,
    requests: list[bytes],
    port: int,
    concurrency: int,
    warmup: float,
    duration: float,
    timeout: float,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    cpu_started = time.process_time()
    stats = asyncio.run(_load(requests, port, concurrency, warmup, duration, timeout))
    stats["cpu"] = time.process_time() - cpu_started
    conn.send(stats)
    conn.close()


def run_requests(
    name: str,
    port: int,
    requests: Sequence[bytes],
    *,
    duration: float,
    warmup: float = 2.0,
    concurrency: int = 8,
    ok_status: int = 200,
    timeout: float = 10.0,
) -> LoadResult:
    """Send prebuilt raw requests (rotated) over ``concurrency`` connections.

    The sender is a fresh interpreter (spawn) running asyncio, so the client neither
    shares a GIL with this process nor sends more than ``concurrency`` requests at a
    time. Every latency after the warm-up is kept. The loader counts any status but
    200 as an error; ``ok_status`` names the one this page is expected to answer.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_load_process,
        args=(sender, list(requests), port, concurrency, warmup, duration, timeout),
        name=f"bench-load-{name}",
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(warmup + duration + timeout + 30):
            raise RuntimeError(f"load generator for {name} did not finish")
        stats = receiver.recv()
        process.join(timeout=10)
    finally:
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)
    errors = stats["errors"]
    if ok_status != 200:
        errors.pop(f"HTTP {ok_status}", None)
    latencies = sorted(stats["latencies"])
    return LoadResult(
        name=name,
        requests=len(latencies),
        seconds=float(stats["seconds"]),
        latencies_ms=latencies,
        errors=errors,
        response_bytes=int(stats["bytes"]),
        client_cpu_seconds=float(stats["cpu"]),
        connections_opened=int(stats["connections"]),
        total_requests=int(stats["total"]),
    )


def run_load(
    name: str,
    port: int,
    paths: Sequence[str],
    *,
    headers: Mapping[str, str],
    duration: float,
    warmup: float = 2.0,
    concurrency: int = 8,
    timeout: float = 10.0,
) -> LoadResult:
    """``run_requests`` for GETs of ``paths`` with the same headers."""
    return run_requests(
        name,
        port,
        [build_request(port, path, headers) for path in paths],
        duration=duration,
        warmup=warmup,
        concurrency=concurrency,
        timeout=timeout,
    )


def format_table(results: Sequence[LoadResult]) -> str:
    """The per-URL figures, one row each."""
    header = (
        f"{'page':<16}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'requests':>10}{'KB/resp':>9}"
        f"{'server CPU ms/req':>19}{'client CPU ms/req':>19}"
    )
    rows = [header, "-" * len(header)]
    for r in results:
        server = r.server_cpu_ms_per_request
        rows.append(
            f"{r.name:<16}{r.rps:>9.1f}{r.p(0.50):>9.1f}{r.p(0.95):>9.1f}"
            f"{r.p(0.99):>9.1f}{r.error_count:>8}{r.requests:>10}"
            f"{r.mean_response_kb:>9.1f}"
            f"{'n/a' if server is None else f'{server:.2f}':>19}"
            f"{r.client_cpu_ms_per_request:>19.2f}"
        )
    return "\n".join(rows)


# --- background services of a run: Redis, a mail sink, product processes ------------


def process_tree(root: int) -> list[int]:
    """A process and all its descendants (Linux /proc scan)."""
    family, pending = [], [root]
    while pending:
        pid = pending.pop()
        family.append(pid)
        pending.extend(child_pids(pid))
    return family


def rss_kib(pids: Iterable[int]) -> int:
    """Resident memory of the given processes together, in KiB (from /proc)."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue  # exited between listing and reading
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
                break
    return total


class BackgroundProcess:
    """A long-running process of the run (worker, SMTP receiver), logged to a file.

    It gets its own session, so stopping it (SIGTERM, then SIGKILL to what is left
    of its process tree) never touches anything but what this run started.
    """

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], log: Path
    ) -> None:
        self.name = name
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                list(argv),
                cwd=REPO_ROOT,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def pids(self) -> list[int]:
        """The process and its children (a Celery worker's pool processes)."""
        return process_tree(self.popen.pid) if self.popen.poll() is None else []

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        """Wait for ``text`` in the log; raise with the log if it never comes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")

    def wait_for_port(self, port: int, timeout: float = 60.0) -> None:
        """Wait until something accepts connections on the loopback port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                break
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} does not listen on {port}:\n{self.tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        family = self.pids()
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        for pid in family[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class RedisServer:
    """A private, non-persistent ``redis-server`` on a free loopback port.

    Benchmarks must not share the machine's Redis: a queue left by another run (or
    by the developer's worker) would be consumed, or consume ours.
    """

    def __init__(self, work_dir: Path) -> None:
        import shutil

        self.port = free_port()
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(work_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class MailSink:
    """A loopback SMTP server that counts outgoing mail and drops it."""

    def __init__(self) -> None:
        import threading

        from aiosmtpd.controller import Controller

        sink = self
        self.count = 0
        self._lock = threading.Lock()

        class Handler:
            async def handle_DATA(
                self, server: object, session: object, envelope: object
            ) -> str:
                with sink._lock:
                    sink.count += 1
                return "250 OK"

        self.port = free_port()
        self._controller = Controller(Handler(), hostname=HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
