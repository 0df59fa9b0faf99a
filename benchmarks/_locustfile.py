"""The users of benchmarks/load.py (a locust file; run_all.py skips ``_*`` files).

Each simulated customer signs in with a prepared session (or API token) of one
organisation, read from ``LOAD_USERS_FILE``, and does what customers do, weighted
as the issue asks: 60% reading the ticket list and tickets, 20% API reads, 10%
comments, 5% new tickets with a 200 kB attachment, 5% searches.

The production settings mark cookies Secure; over loopback HTTP the session and
CSRF cookies are therefore sent by hand (a CSRF secret of our own, which Django
accepts as the form token too).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
import string
from urllib.parse import urlencode

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["LOAD_USERS_FILE"]) as stream:
    PEOPLE = json.load(stream)
_next = itertools.count()
ATTACHMENT = (
    b"2026-03-02T10:00:00Z run-8f2c1a plan: context deadline exceeded\n" * 3200
)[: 200 * 1024]
SEARCH_TERMS = ["timeout", "agent", "SAML", "pending", "Terraform", "webhook", "9.4"]


THINK = [float(x) for x in os.environ.get("LOAD_THINK", "1,4").split(",")]


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]):
    """A multipart/form-data body (the fast client does not build one itself)."""
    boundary = "----load" + secrets.token_hex(12)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Customer(FastHttpUser):
    wait_time = between(THINK[0], THINK[1])  # seconds between two actions

    def on_start(self) -> None:
        person = PEOPLE[next(_next) % len(PEOPLE)]
        self.tickets = person["tickets"]
        self.csrf = "".join(secrets.choice(string.ascii_letters) for _ in range(32))
        self.cookie = f"sessionid={person['session']}; csrftoken={self.csrf}"
        self.portal = {"Cookie": self.cookie}
        self.api = {"Authorization": f"Token {person['token']}"}
        self.serial = 0

    def _ticket(self) -> int:
        return random.choice(self.tickets)

    @task(30)
    def ticket_list(self) -> None:
        page = random.choice(["", "?page=2", "?status=open", "?page=3"])
        self.client.get(f"/tickets/{page}", headers=self.portal, name="portal list")

    @task(30)
    def ticket_detail(self) -> None:
        self.client.get(
            f"/tickets/{self._ticket()}/", headers=self.portal, name="portal ticket"
        )

    @task(10)
    def api_list(self) -> None:
        self.client.get("/api/v1/tickets/", headers=self.api, name="api list")

    @task(10)
    def api_detail(self) -> None:
        number = self._ticket()
        self.client.get(
            f"/api/v1/tickets/{number}/", headers=self.api, name="api ticket"
        )

    def _form_post(
        self, path: str, body: bytes | str, content_type: str, *, name: str
    ) -> None:
        """A portal form post; it succeeds by redirecting (302), as a browser sees."""
        with self.client.post(
            path,
            data=body,
            headers={**self.portal, "Content-Type": content_type},
            allow_redirects=False,
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")

    @task(10)
    def comment(self) -> None:
        self.serial += 1
        self._form_post(
            f"/tickets/{self._ticket()}/comments/",
            urlencode(
                {
                    "body": f"Load comment {self.serial}",
                    "csrfmiddlewaretoken": self.csrf,
                }
            ),
            "application/x-www-form-urlencoded",
            name="comment",
        )

    @task(5)
    def new_ticket(self) -> None:
        self.serial += 1
        body, content_type = multipart(
            {
                "subject": f"Load test ticket {self.serial}",
                "priority": "3",
                "category": "bug",
                "deployment": "saas",
                "description": "Filed by the load test, with a 200 kB log.",
                "csrfmiddlewaretoken": self.csrf,
            },
            {"attachments": ("run.log", ATTACHMENT, "text/plain")},
        )
        self._form_post("/tickets/new/", body, content_type, name="new ticket")

    @task(5)
    def search(self) -> None:
        term = random.choice(SEARCH_TERMS)
        self.client.get(f"/tickets/?q={term}", headers=self.portal, name="search")
