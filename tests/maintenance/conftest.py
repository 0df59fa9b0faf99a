"""Maintenance fixtures: schedules and windows, and a real HTTP server standing in
for Slack's incoming webhook, scripted answer by answer."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from maintenance.models import MaintenanceSchedule, MaintenanceWindow


@dataclass
class Answer:
    """One scripted reply: a status, a body, headers; or hang for ``hang`` seconds."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0


class SlackStub:
    """Records every POST; answers from a script, then 200 ``ok`` once it runs out."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/services/T000/B000/XXXX"

    @property
    def texts(self) -> list[str]:
        return [request["text"] for request in self.requests]

    def answer(self, *answers: Answer) -> None:
        with self.lock:
            self.script.extend(answers)

    def _next(self, payload: dict[str, Any]) -> Answer:
        with self.lock:
            self.requests.append(payload)
            return self.script.pop(0) if self.script else Answer()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                answer = stub._next(payload)
                if answer.hang:
                    time.sleep(answer.hang)
                try:
                    body = answer.body.encode()
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slack(settings: Any) -> Iterator[SlackStub]:
    """A live webhook endpoint on loopback, configured as SLACK_WEBHOOK_URL."""
    stub = SlackStub()
    stub.start()
    settings.SLACK_WEBHOOK_URL = stub.url
    settings.SLACK_WEBHOOK_TIMEOUT = 0.5
    yield stub
    stub.stop()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/services/T000/B000/XXXX"


def make_schedule(**overrides: Any) -> MaintenanceSchedule:
    values: dict[str, Any] = {
        "name": "Regular maintenance",
        "weekdays": "1,3",
        "start_time": clock_time(7, 0),
        "timezone": "UTC",
        "duration_minutes": 30,
    }
    values.update(overrides)
    return MaintenanceSchedule.objects.create(**values)


def make_window(
    *,
    starts_in: timedelta = timedelta(minutes=-1),
    minutes: int = 30,
    now: datetime | None = None,
    **overrides: Any,
) -> MaintenanceWindow:
    """An ad-hoc window starting ``starts_in`` from now (negative: it has started)."""
    start = ((now or timezone.now()) + starts_in).replace(microsecond=0)
    values: dict[str, Any] = {
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "customised": True,
    }
    values.update(overrides)
    return MaintenanceWindow.objects.create(**values)


@pytest.fixture
def no_schedules(db: None) -> None:
    """Windows of the seeded schedule would muddle counts; tests make their own."""
    MaintenanceWindow.objects.all().delete()
    MaintenanceSchedule.objects.all().delete()
