"""Loopback stand-ins for the mail provider (SMTP) and Slack (an incoming webhook).

Both answer from a script: accept, fail temporarily (SMTP 451, HTTP 500, HTTP 429
with Retry-After), hang past the client's timeout, or refuse connections (the
listening socket is closed until ``up()``). They record what they accepted, so a
test counts effects where the outside world would see them.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from .processes import HOST, free_port

logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass
class Reply:
    """One scripted answer. ``hang``: wait that long first; ``status`` then."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0


# --- SMTP -----------------------------------------------------------------------------


@dataclass
class Received:
    to: list[str]
    message_id: str
    subject: str
    event: str  # the X-Faults-Event header if any, else ""
    at: float


class _MailHandler:
    def __init__(self, stub: MailStub) -> None:
        self.stub = stub

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stub = self.stub
        reply = stub.next_reply()
        stub.data_started.append(time.time())
        if reply.hang:
            await asyncio.sleep(reply.hang)
        if reply.status >= 400:
            return f"{reply.status} {reply.body}"
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with stub.lock:
            stub.received.append(
                Received(
                    to=[str(a).lower() for a in envelope.rcpt_tos],
                    message_id=str(message.get("Message-ID", "")),
                    subject=str(message.get("Subject", "")),
                    event=str(message.get("X-Faults-Event", "")),
                    at=time.time(),
                )
            )
        return "250 2.0.0 accepted"


class MailStub:
    """An SMTP server; the default answer is 250 after ``delay`` seconds."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.script: list[Reply] = []
        self.delay = 0.0
        self.received: list[Received] = []
        self.data_started: list[float] = []
        self.controller: Controller | None = None

    def next_reply(self) -> Reply:
        with self.lock:
            if self.script:
                return self.script.pop(0)
        return Reply(status=250, hang=self.delay)

    def up(self) -> None:
        self.controller = Controller(_MailHandler(self), hostname=HOST, port=self.port)
        self.controller.start()

    def down(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def by_message_id(self) -> dict[str, list[Received]]:
        with self.lock:
            grouped: dict[str, list[Received]] = {}
            for item in self.received:
                grouped.setdefault(item.message_id, []).append(item)
            return grouped

    def count(self) -> int:
        with self.lock:
            return len(self.received)


# --- Slack ----------------------------------------------------------------------------


class SlackStub:
    """An incoming-webhook endpoint; the default answer is 200 ``ok``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.script: list[Reply] = []
        self.requests: list[tuple[float, str]] = []
        self.posted: list[tuple[float, str]] = []  # answered 2xx: in the channel
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/services/T000/B000/faults"

    def answer(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def _next(self, text: str) -> Reply:
        with self.lock:
            self.requests.append((time.time(), text))
            return self.script.pop(0) if self.script else Reply()

    def _posted(self, text: str) -> None:
        with self.lock:
            self.posted.append((time.time(), text))

    def up(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                text = str(payload.get("text", ""))
                reply = stub._next(text)
                if reply.hang:
                    time.sleep(reply.hang)  # the client has given up by now
                    self.close_connection = True
                    return
                body = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    return
                if 200 <= reply.status < 300:
                    stub._posted(text)

            def log_message(self, format: str, *args: Any) -> None:
                return

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer((HOST, self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        ).start()

    def down(self) -> None:
        """Close the listening socket: connections are refused until ``up()``."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def posted_texts(self) -> list[str]:
        with self.lock:
            return [text for _, text in self.posted]


def stubs() -> Iterator[tuple[MailStub, SlackStub]]:
    mail, slack = MailStub(), SlackStub()
    mail.up()
    slack.up()
    try:
        yield mail, slack
    finally:
        mail.down()
        slack.down()
