"""The private services of the fault suite, each a real process known by its PID.

PostgreSQL (``initdb`` into a temporary folder, its own port, ``pg_ctl``), Redis,
Celery workers and beat, gunicorn, the SMTP receiver and the driver (a Django
shell the tests talk to) are started here and stopped, killed and restarted only
through the PIDs recorded here: nothing else on the machine is touched.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until(
    probe: Callable[[], Any], *, timeout: float, interval: float = 0.05, what: str = ""
) -> Any:
    """Call ``probe`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def children_of(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def kill_pid(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- PostgreSQL -----------------------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL server binaries (pg_ctl, initdb) not found")
    return Path(pg_ctl).parent


class PostgresCluster:
    """A throwaway cluster: ``initdb`` into a temporary folder, its own port.

    PostgreSQL refuses to run as root, so under root the server runs as the
    ``postgres`` account (the folder is handed to it).
    """

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="scalr-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            account = pwd.getpwnam(self.user)
            os.chown(self.root, account.pw_uid, account.pw_gid)

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]],
            user=self.user,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={HOST} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are cut and the server stops cleanly (a restart)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> None:
        import psycopg2

        connection = psycopg2.connect(self.url(database))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


# --- Redis ----------------------------------------------------------------------------


class RedisServer:
    """``redis-server`` on its own port, nothing on disk (a crash loses its queue)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = root / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    HOST,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.root),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_until(lambda: port_open(self.port), timeout=10, what="redis")

    def kill(self) -> None:
        """SIGKILL, by PID: whatever it held (queued, unacknowledged) is gone."""
        if self.process is not None:
            kill_pid(self.process.pid)
            self.process.wait(timeout=10)
            self.process = None


# --- our own Django processes ---------------------------------------------------------


class Service:
    """One process of the product (or the driver), started with the rig's env."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log: Path,
        *,
        ready: Callable[[Service], bool] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log = log
        self.ready = ready
        self.process: subprocess.Popen[bytes] | None = None
        self.log_offset = 0
        self.orphans: list[int] = []

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} is not running"
        return self.process.pid

    def children(self) -> list[int]:
        return children_of(self.pid) if self.process else []

    def start(self, **extra_env: str) -> Service:
        self.env.update(extra_env)
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    def wait_ready(self, timeout: float = 45.0) -> Service:
        if self.ready is not None:

            def probe() -> bool:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {self.process.returncode}:\n"
                        f"{self.tail()}"
                    )
                return self.ready(self)  # type: ignore[misc]

            wait_until(probe, timeout=timeout, interval=0.1, what=f"{self.name}")
        return self

    def output(self) -> str:
        try:
            with self.log.open("rb") as log:
                log.seek(self.log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the main process by PID and reap it; its children are left alone.

        Children that outlive their parent (a prefork child finishing its task)
        are remembered and killed when the rig is torn down.
        """
        if self.process is None:
            return
        self.orphans.extend(self.children())
        kill_pid(self.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        self.process = None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; children too, by PID."""
        if self.process is not None:
            children = self.children()
            kill_pid(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_pid(self.process.pid)
                self.process.wait(timeout=5)
            self.process = None
            self.orphans.extend(children)
        for pid in self.orphans:
            if alive(pid):
                kill_pid(pid)
        self.orphans.clear()

    def kill_all(self) -> None:
        """SIGKILL the process and every descendant (no graceful shutdown)."""
        if self.process is not None:
            pending = [self.process.pid]
            family = []
            while pending:
                pid = pending.pop()
                family.append(pid)
                pending.extend(children_of(pid))
            for pid in family:
                kill_pid(pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.process = None
        for pid in self.orphans:
            if alive(pid):
                kill_pid(pid)
        self.orphans.clear()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def log_says(text: str) -> Callable[[Service], bool]:
    return lambda service: text in service.output()


def http_ok(port: int, path: str = "/healthz") -> Callable[[Service], bool]:
    def probe(service: Service) -> bool:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=1)
            connection.request("GET", path)
            status = connection.getresponse().status
            connection.close()
        except OSError:
            return False
        return status < 500

    return probe


# --- the driver: a Django process the tests ask to act and to look --------------------


class DriverError(RuntimeError):
    pass


class Driver:
    """``python -m tests.faults.driver``: operations by name, JSON in and out."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.env = dict(env)
        self.log = log
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Driver:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.driver"],
                cwd=REPO,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                bufsize=1,
            )
        return self

    def __call__(self, op: str, **args: Any) -> Any:
        process = self.process
        assert process is not None
        assert process.stdin
        assert process.stdout
        process.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise DriverError(
                f"driver exited during {op}:\n{self.log.read_text()[-3000:]}"
            )
        answer = json.loads(line)
        if not answer["ok"]:
            raise DriverError(f"{op}: {answer['error']}")
        return answer["result"]

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                assert self.process.stdin
                self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                kill_pid(self.process.pid)
                self.process.wait(timeout=5)
            self.process = None


# --- the rig: one test's processes ----------------------------------------------------


class Rig:
    """The processes of one test, on the session's cluster and a fresh database.

    ``worker()``, ``beat()``, ``web()`` and ``receiver()`` start product processes
    (not yet waited for: start several, then ``wait_ready`` each, in parallel);
    ``driver`` acts on and inspects the database through Django.
    """

    def __init__(self, root: Path, env: Mapping[str, str], redis: RedisServer) -> None:
        self.root = root
        self.env = dict(env)
        self.redis = redis
        self.services: list[Service] = []
        self.driver = Driver(self.env, root / "driver.log")
        self.web_port = int(self.env["FAULTS_WEB_PORT"])
        self.smtp_port = int(self.env["FAULTS_SMTP_PORT"])

    def _service(self, name: str, argv: Sequence[str], **kwargs: Any) -> Service:
        count = sum(1 for s in self.services if s.name.startswith(name))
        label = f"{name}{count or ''}"
        service = Service(label, argv, self.env, self.root / f"{label}.log", **kwargs)
        self.services.append(service)
        return service

    def worker(self, *, concurrency: int = 2, **env: str) -> Service:
        count = sum(1 for s in self.services if s.name.startswith("worker"))
        service = self._service(
            "worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "scalr_support",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "-n",
                f"faults{count}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            ready=log_says(" ready."),
        )
        return service.start(**env)

    def beat(self, **env: str) -> Service:
        count = sum(1 for s in self.services if s.name.startswith("beat"))
        service = self._service(
            "beat",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "scalr_support",
                "beat",
                "--loglevel",
                "INFO",
                "-s",
                str(self.root / f"beat{count}-schedule"),
            ],
            ready=log_says("beat: Starting"),
        )
        return service.start(**env)

    def web(self, *, workers: int = 2, threads: int = 4) -> Service:
        service = self._service(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "scalr_support.wsgi",
                "--bind",
                f"{HOST}:{self.web_port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "30",
                "--graceful-timeout",
                "3",
                "--log-level",
                "warning",
            ],
            ready=http_ok(self.web_port),
        )
        return service.start()

    def receiver(self) -> Service:
        service = self._service(
            "receiver",
            [
                sys.executable,
                str(REPO / "manage.py"),
                "receive_mail",
                "--host",
                HOST,
                "--port",
                str(self.smtp_port),
            ],
            ready=lambda _service: port_open(self.smtp_port),
        )
        return service.start()

    def teardown(self) -> None:
        """SIGKILL every process of the rig, children included, by PID."""
        for service in reversed(self.services):
            service.kill_all()
        self.driver.stop()
        if self.redis.process is not None:
            self.redis.kill()

    def logs(self) -> str:
        parts = [
            f"--- {s.name} (pid {s.process.pid if s.process else '-'}) ---\n"
            f"{s.tail(3000)}"
            for s in self.services
        ]
        return "\n".join(parts)
