"""Scenario 3: PostgreSQL restarts under light load with tasks in flight.

While customers browse, comment, file tickets with attachments and reply by email,
the private cluster is stopped (``pg_ctl stop -m fast``: every session cut) and
started again ``OUTAGE`` seconds later. During the outage the portal answers a clean
503 page and the API a JSON error (never a 500 or a traceback), the webhook and the
SMTP receiver ask the sender to retry (5xx JSON / 451); within
``RESUME_SECONDS`` of PostgreSQL accepting connections every kind of request
succeeds again; tasks that hit the outage retry and complete; the consistency
queries find no half-made ticket, comment or attachment.
"""

from __future__ import annotations

import itertools
import os
import threading
import time

import pytest

from .clients import (
    Api,
    Portal,
    Recorder,
    reply_email,
    smtp_send,
    webhook_post,
)
from .conftest import WEBHOOK_SECRET
from .processes import wait_until
from .stubs import MailStub

OUTAGE = float(os.environ.get("FAULTS_PG_OUTAGE", "5"))
RESUME_SECONDS = 10.0
PAUSE = 0.15

pytestmark = pytest.mark.timeout(240)

CLEAN_PAGE = "Back in a moment"


def _clean_503(kind: str, response) -> bool:
    """A 503 the way the scenario demands: a page or JSON, no traceback."""
    if response.status_code != 503 or "Traceback" in response.text:
        return False
    if kind.startswith(("api", "webhook")):
        return response.json().get("code") == "service_unavailable"
    return CLEAN_PAGE in response.text


def test_postgres_restart_answers_503_then_resumes_without_half_made_rows(
    rig, mail_stub: MailStub
):
    # Senders rotate: more than 20 mails from one person in 10 minutes is
    # quarantined by the product's loop protection.
    world = rig.driver("seed", contacts=8, tickets=2)
    contacts = world["contacts"]
    services = [rig.worker(), rig.beat(), rig.web(), rig.receiver()]
    for service in services:
        service.wait_ready()
    port = rig.web_port
    portal = Portal(port, contacts[0]["email"], world["password"])
    assert portal.login().status_code == 302
    api = Api(port, contacts[1]["token"])
    number = world["tickets"][0]
    reply_to = {
        c["email"]: rig.driver("reply_address", ticket=number, user=c["id"])
        for c in contacts
    }

    recorder = Recorder()
    seen: list[tuple[float, str, int, bool]] = []  # (time, kind, status, clean)
    unsent_mail: list[
        tuple[str, str, bytes]
    ] = []  # a provider's and an MTA's retry queue
    mail_lock = threading.Lock()
    stop = threading.Event()
    counter = itertools.count(1)

    def observe(kind: str, response) -> None:
        clean = response.status_code < 500 or _clean_503(kind, response)
        seen.append((time.monotonic(), kind, response.status_code, clean))

    def browse() -> None:
        while not stop.is_set():
            n = next(counter)
            for kind, call in (
                ("portal list", lambda: portal.get("/tickets/")),
                ("portal detail", lambda: portal.get(f"/tickets/{number}/")),
                ("portal comment", lambda n=n: portal.comment(number, f"Portal {n}")),
                (
                    "portal ticket",
                    lambda n=n: portal.new_ticket(
                        f"Restart {n}", [(f"trace-{n}.txt", b"x" * 2048)]
                    ),
                ),
                ("api list", api.tickets),
                ("api comment", lambda n=n: api.comment(number, f"API {n}")),
            ):
                try:
                    observe(kind, call())
                except Exception as error:  # a refused or hung request
                    seen.append((time.monotonic(), kind, 0, False))
                    recorder.record(kind, 0, 0.0, False)
                    print(kind, error)
                time.sleep(PAUSE)

    def deliver_mail() -> None:
        """A provider and an MTA: each message is retried until accepted."""
        n = 0
        while not stop.is_set():
            n += 1
            sender = contacts[n % len(contacts)]["email"]
            raw, _mid = reply_email(
                sender=sender, to=reply_to[sender], body=f"Mail {n}"
            )
            with mail_lock:
                unsent_mail.append(("webhook" if n % 2 else "smtp", sender, raw))
                queue = list(unsent_mail)
            for item in queue:
                transport, sender, message = item
                if transport == "webhook":
                    response = webhook_post(port, message, WEBHOOK_SECRET)
                    observe("webhook", response)
                    accepted = response.status_code == 200
                else:
                    code = smtp_send(rig.smtp_port, sender, reply_to[sender], message)
                    seen.append((time.monotonic(), "smtp", code, code in (250, 451)))
                    accepted = code == 250
                if accepted:
                    with mail_lock:
                        unsent_mail.remove(item)
            time.sleep(0.4)

    threads = [threading.Thread(target=browse), threading.Thread(target=deliver_mail)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        rig.cluster.stop("fast")
        down_at = time.monotonic()
        time.sleep(OUTAGE)
        rig.cluster.start()
        up_at = time.monotonic()
        # Keep the load on until every kind has succeeded again, then a little more.
        kinds = {
            "portal list",
            "portal detail",
            "portal comment",
            "portal ticket",
            "api list",
            "api comment",
            "webhook",
        }

        def resumed() -> bool:
            ok_since = {k for t, k, s, _c in seen if t > up_at and s < 400}
            return kinds <= ok_since

        wait_until(resumed, timeout=30, interval=0.2, what="service to resume")
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    # During the outage: 503s, clean; never a 500, a hang or a traceback.
    during = [entry for entry in seen if down_at <= entry[0] <= up_at]
    assert during, "no request reached the outage"
    assert {s for _t, _k, s, _c in during} - {200, 201, 302, 503, 250, 451} == set()
    unclean = [entry for entry in seen if not entry[3]]
    assert unclean == [], unclean[:5]
    assert any(s == 503 for _t, k, s, _c in during if k.startswith("portal"))
    assert any(s == 503 for _t, k, s, _c in during if k.startswith("api"))
    # Service resumed within RESUME_SECONDS for every kind of request.
    first_ok = {
        kind: min(t for t, k, s, _c in seen if k == kind and t > up_at and s < 400)
        - up_at
        for kind in kinds
    }
    assert max(first_ok.values()) <= RESUME_SECONDS, first_ok

    # Tasks that hit the outage retried and completed: nothing left behind.
    def settled() -> bool:
        return (
            not unsent_mail
            and rig.driver(
                "scalar",
                query="SELECT (SELECT count(*) FROM notifications_inboundmessage "
                "WHERE status = 'received') + (SELECT count(*) FROM "
                "notifications_emaildelivery WHERE status <> 'sent')",
            )
            == 0
        )

    wait_until(settled, timeout=60, interval=0.5, what="tasks to complete")
    worker_log = "".join(
        s.output() for s in rig.services if s.name.startswith("worker")
    )
    assert "Retry in" in worker_log
    assert "OperationalError" in worker_log
    assert "raised unexpected: OperationalError" not in worker_log

    # No half-made rows anywhere.
    problems = rig.driver("consistency")
    assert {name: rows for name, rows in problems.items() if rows} == {}
    statuses = dict(
        rig.driver(
            "sql",
            query="SELECT status, count(*) FROM notifications_inboundmessage "
            "GROUP BY status",
        )
    )
    assert set(statuses) <= {"processed", "ignored"}
    emails = rig.driver(
        "scalar", query="SELECT count(*) FROM tickets_comment WHERE source = 'email'"
    )
    assert emails == statuses["processed"]
    print(
        f"\npostgres down {OUTAGE:.0f} s: {len(during)} answers during the outage "
        f"({sum(1 for e in during if e[2] == 503)} x 503), resumed after "
        f"{ {k: round(v, 2) for k, v in first_ok.items()} } s"
    )
