"""What customers and providers do to the rig, over real sockets, each call timed.

``Portal`` signs in with the login form and posts forms with the CSRF token, as a
browser would; ``Api`` uses a personal token; ``webhook_post`` is a provider's
inbound webhook (Postmark's format, basic auth); ``smtp_send`` is an MTA relaying a
reply. Every call is recorded as a ``Call`` with its duration, so a test can say
"no request failed or took longer than N seconds".
"""

from __future__ import annotations

import base64
import json
import re
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import requests

HOST = "127.0.0.1"
CLIENT_TIMEOUT = 10.0  # a hung request is recorded as a failure, never waited out


@dataclass
class Call:
    kind: str
    status: int
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(
        self, kind: str, action: Callable[[], requests.Response | int], ok: set[int]
    ) -> Call:
        started = time.monotonic()
        try:
            result = action()
            status = result if isinstance(result, int) else result.status_code
            detail = "" if isinstance(result, int) else result.text[:300]
        except (requests.RequestException, smtplib.SMTPException, OSError) as error:
            status, detail = 0, f"{type(error).__name__}: {error}"
        call = Call(kind, status, time.monotonic() - started, status in ok, detail)
        with self.lock:
            self.calls.append(call)
        return call

    def record(self, kind: str, status: int, seconds: float, ok: bool) -> None:
        with self.lock:
            self.calls.append(Call(kind, status, seconds, ok))

    def failures(self) -> list[Call]:
        return [call for call in self.calls if not call.ok]

    def slowest(self) -> float:
        return max((call.seconds for call in self.calls), default=0.0)

    def summary(self) -> dict[str, tuple[int, float]]:
        kinds: dict[str, list[float]] = {}
        for call in self.calls:
            kinds.setdefault(call.kind, []).append(call.seconds)
        return {kind: (len(s), max(s)) for kind, s in sorted(kinds.items())}


class Portal:
    """A signed-in browser session (session cookie, CSRF token from the cookie)."""

    def __init__(self, port: int, email: str, password: str) -> None:
        self.base = f"http://{HOST}:{port}"
        self.email = email
        self.password = password
        self.session = requests.Session()

    def _csrf(self) -> str:
        return self.session.cookies.get("csrftoken", "")

    def login(self) -> requests.Response:
        self.session.get(f"{self.base}/accounts/login/", timeout=CLIENT_TIMEOUT)
        return self.session.post(
            f"{self.base}/accounts/login/",
            data={
                "username": self.email,
                "password": self.password,
                "csrfmiddlewaretoken": self._csrf(),
            },
            allow_redirects=False,
            timeout=CLIENT_TIMEOUT,
        )

    def get(self, path: str) -> requests.Response:
        return self.session.get(
            f"{self.base}{path}", allow_redirects=False, timeout=CLIENT_TIMEOUT
        )

    def new_ticket(
        self,
        subject: str,
        files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    ) -> requests.Response:
        return self.session.post(
            f"{self.base}/tickets/new/",
            data={
                "subject": subject,
                "priority": "2",
                "category": "bug",
                "deployment": "saas",
                "description": f"{subject}: runs stay pending.",
                "csrfmiddlewaretoken": self._csrf(),
            },
            files=[("attachments", (name, content)) for name, content in files],
            allow_redirects=False,
            timeout=CLIENT_TIMEOUT,
        )

    def comment(self, number: int, body: str) -> requests.Response:
        return self.session.post(
            f"{self.base}/tickets/{number}/comments/",
            data={"body": body, "csrfmiddlewaretoken": self._csrf()},
            allow_redirects=False,
            timeout=CLIENT_TIMEOUT,
        )


def created_number(response: requests.Response) -> int | None:
    """The ticket number a portal form redirected to."""
    match = re.search(r"/tickets/(\d+)/", response.headers.get("Location", ""))
    return int(match[1]) if match else None


class Api:
    def __init__(self, port: int, token: str) -> None:
        self.base = f"http://{HOST}:{port}/api/v1"
        self.headers = {"Authorization": f"Token {token}"}

    def create_ticket(self, subject: str) -> requests.Response:
        return requests.post(
            f"{self.base}/tickets/",
            json={
                "subject": subject,
                "description": f"{subject}: plans fail.",
                "priority": 2,
                "category": "bug",
            },
            headers=self.headers,
            timeout=CLIENT_TIMEOUT,
        )

    def comment(self, number: int, body: str) -> requests.Response:
        return requests.post(
            f"{self.base}/tickets/{number}/comments/",
            json={"body": body},
            headers=self.headers,
            timeout=CLIENT_TIMEOUT,
        )

    def tickets(self) -> requests.Response:
        return requests.get(
            f"{self.base}/tickets/", headers=self.headers, timeout=CLIENT_TIMEOUT
        )


def reply_email(
    *,
    sender: str,
    to: str,
    body: str,
    subject: str = "Re: your ticket",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """A plain customer reply; returns (raw bytes, its Message-ID)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain="customer.example.com")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes(), str(message["Message-ID"])


def webhook_post(port: int, raw: bytes, secret: str) -> requests.Response:
    """Postmark's inbound webhook: the raw message in JSON, basic auth."""
    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    return requests.post(
        f"http://{HOST}:{port}/anymail/postmark/inbound/",
        data=json.dumps({"RawEmail": raw.decode(), "Headers": [], "MessageID": "x"}),
        headers={"Authorization": auth, "Content-Type": "application/json"},
        timeout=CLIENT_TIMEOUT,
    )


def smtp_send(port: int, sender: str, to: str, raw: bytes) -> int:
    """Relay one message; the SMTP reply code to DATA (250 when stored)."""
    with smtplib.SMTP(HOST, port, timeout=CLIENT_TIMEOUT) as client:
        try:
            client.sendmail(sender, [to], raw)
        except smtplib.SMTPResponseException as error:
            return error.smtp_code
        return 250


def smtp_store(port: int, sender: str, to: str, raw: bytes) -> tuple[int, str]:
    """Relay one message; (code, text) of the reply to DATA ("stored as <id>")."""
    with smtplib.SMTP(HOST, port, timeout=CLIENT_TIMEOUT) as client:
        client.ehlo()
        client.mail(sender)
        client.rcpt(to)
        code, text = client.data(raw)
        return code, text.decode(errors="replace")


def health(port: int) -> tuple[int, dict[str, Any]]:
    response = requests.get(f"http://{HOST}:{port}/healthz", timeout=CLIENT_TIMEOUT)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {}
