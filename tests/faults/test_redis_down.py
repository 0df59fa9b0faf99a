"""Scenario 1: the broker (Redis) dies while customers file, comment and reply by mail.

Redis is SIGKILLed (no persistence: whatever it queued is gone) for
``REDIS_OUTAGE`` seconds while customers file tickets and comment through the
portal and the API, and reply by email through the ESP webhook and the SMTP
receiver. Every request answers as usual and within ``MAX_REQUEST_SECONDS``; each
accepted email is in PostgreSQL when the sender hears 2xx/250; ``/healthz`` says
``degraded``. Once Redis is back, the sweeps send every committed notification and
process every stored message within ``RECOVERY_SECONDS``: counts as expected, no
duplicates at the mail stub.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .clients import (
    Api,
    Portal,
    Recorder,
    created_number,
    health,
    reply_email,
    smtp_send,
    webhook_post,
)
from .conftest import WEBHOOK_SECRET
from .processes import wait_until
from .stubs import MailStub

REDIS_OUTAGE = float(os.environ.get("FAULTS_REDIS_OUTAGE", "15"))
MAX_REQUEST_SECONDS = 2.0
RECOVERY_SECONDS = 60.0
PAUSE = 0.3  # seconds each simulated customer waits between two actions

pytestmark = pytest.mark.timeout(240)


def _stored(rig, needle: str, lock: threading.Lock) -> int:
    with lock:
        return rig.driver(
            "scalar",
            query="SELECT count(*) FROM notifications_inboundmessage "
            "WHERE position(convert_to(%s, 'UTF8') in raw) > 0",
            params=[needle],
        )


def test_redis_outage_loses_nothing_and_doubles_nothing(rig, mail_stub: MailStub):
    # Senders rotate: more than 20 mails from one person in 10 minutes is
    # quarantined by the product's loop protection.
    world = rig.driver("seed", contacts=6, tickets=2)
    contacts = world["contacts"]
    services = [rig.worker(), rig.beat(), rig.web(), rig.receiver()]
    for service in services:
        service.wait_ready()
    port = rig.web_port
    portals = [Portal(port, c["email"], world["password"]) for c in contacts[:2]]
    for portal in portals:
        assert portal.login().status_code == 302
    apis = [Api(port, c["token"]) for c in contacts]
    addresses = {
        (number, c["email"]): rig.driver("reply_address", ticket=number, user=c["id"])
        for number in world["tickets"]
        for c in contacts
    }
    wait_until(
        lambda: (
            rig.driver(
                "scalar",
                query="SELECT count(*) FROM "
                "notifications_emaildelivery WHERE status <> 'sent'",
            )
            == 0
        ),
        timeout=30,
        what="the seeded tickets' mail",
    )

    recorder = Recorder()
    driver_lock = threading.Lock()
    counter = itertools.count(1)
    tickets_created: list[int] = []
    comments_posted: list[str] = []
    emails_sent: list[str] = []
    health_seen: list[tuple[int, dict]] = []

    def act() -> None:
        time.sleep(PAUSE)  # a busy afternoon, not a load test
        n = next(counter)
        contact = contacts[n % len(contacts)]
        number = world["tickets"][n % len(world["tickets"])]
        kind = n % 7
        if kind == 0:
            call = recorder.timed(
                "api ticket",
                lambda: apis[n % len(apis)].create_ticket(f"API {n}"),
                {201},
            )
            if call.ok:
                tickets_created.append(n)
        elif kind == 1:
            portal = portals[n % 2]
            response = {}

            def file_ticket():
                response["r"] = portal.new_ticket(f"Portal {n}", [("log.txt", b"x")])
                return response["r"]

            call = recorder.timed("portal ticket", file_ticket, {302})
            if call.ok and created_number(response["r"]):
                tickets_created.append(n)
        elif kind == 2:
            body = f"API comment {n}"
            if recorder.timed(
                "api comment", lambda: apis[n % len(apis)].comment(number, body), {201}
            ).ok:
                comments_posted.append(body)
        elif kind == 3:
            body = f"Portal comment {n}"
            portal = portals[n % 2]
            if recorder.timed(
                "portal comment", lambda: portal.comment(number, body), {302}
            ).ok:
                comments_posted.append(body)
        elif kind in (4, 5):
            body = f"Email reply {n}"
            to = addresses[(number, contact["email"])]
            raw, _mid = reply_email(sender=contact["email"], to=to, body=body)
            if kind == 4:
                call = recorder.timed(
                    "webhook", lambda: webhook_post(port, raw, WEBHOOK_SECRET), {200}
                )
            else:
                call = recorder.timed(
                    "smtp",
                    lambda: smtp_send(rig.smtp_port, contact["email"], to, raw),
                    {250},
                )
            if call.ok:
                # Acknowledged: the raw message must already be in PostgreSQL.
                assert _stored(rig, body, driver_lock) == 1, body
                emails_sent.append(body)
        else:
            started = time.monotonic()
            status, payload = health(port)
            recorder.record(
                "healthz", status, time.monotonic() - started, status == 200
            )
            health_seen.append((status, payload))

    rig.redis.kill()
    outage_started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        while time.monotonic() - outage_started < REDIS_OUTAGE:
            list(pool.map(lambda _: act(), range(4)))
    rig.redis.start()
    back = time.monotonic()

    def settled() -> bool:
        pending = rig.driver(
            "scalar",
            query="SELECT (SELECT count(*) FROM notifications_inboundmessage "
            "WHERE status = 'received') + (SELECT count(*) FROM "
            "notifications_emaildelivery WHERE status <> 'sent')",
        )
        delivered = rig.driver(
            "scalar", query="SELECT count(*) FROM notifications_emaildelivery"
        )
        return pending == 0 and len(mail_stub.by_message_id()) >= delivered

    wait_until(settled, timeout=RECOVERY_SECONDS, interval=0.5, what="recovery")
    recovered_in = time.monotonic() - back

    # Every request answered, none slowly.
    failures = recorder.failures()
    assert failures == [], failures[:5]
    assert recorder.slowest() <= MAX_REQUEST_SECONDS, recorder.summary()
    kinds = recorder.summary()
    assert {
        "api ticket",
        "portal ticket",
        "api comment",
        "portal comment",
        "webhook",
        "smtp",
    } <= set(kinds), kinds
    # The health endpoint said so.
    assert health_seen
    assert all(
        status == 200
        and payload["status"] == "degraded"
        and payload["checks"] == {"database": "ok", "broker": "unavailable"}
        for status, payload in health_seen
    ), health_seen
    assert health(port) == (
        200,
        {"status": "ok", "checks": {"database": "ok", "broker": "ok"}},
    )

    # Counts as expected: one ticket per accepted form, one comment per accepted
    # comment and per email, no more.
    counts = rig.driver(
        "sql",
        query="SELECT (SELECT count(*) FROM tickets_ticket), "
        "(SELECT count(*) FROM tickets_comment WHERE source IN ('portal', 'api')), "
        "(SELECT count(*) FROM tickets_comment WHERE source = 'email'), "
        "(SELECT count(*) FROM notifications_inboundmessage "
        " WHERE status = 'processed'), "
        "(SELECT count(*) FROM notifications_inboundmessage)",
    )[0]
    assert counts == [
        len(world["tickets"]) + len(tickets_created),
        len(comments_posted),
        len(emails_sent),
        len(emails_sent),
        len(emails_sent),
    ]
    bodies = rig.driver("sql", query="SELECT body FROM tickets_comment")
    assert sorted(b[0] for b in bodies) == sorted(comments_posted + emails_sent)

    # Every committed notification sent once: one message per delivery row.
    deliveries = rig.driver(
        "sql",
        query="SELECT message_id, lower(to_address) FROM notifications_emaildelivery",
    )
    received = mail_stub.by_message_id()
    assert sorted(received) == sorted(mid for mid, _ in deliveries)
    for message_id, address in deliveries:
        assert {tuple(r.to) for r in received[message_id]} == {(address,)}
    duplicates = sum(len(r) - 1 for r in received.values())
    assert duplicates == 0, f"{duplicates} messages were sent twice"
    assert recovered_in <= RECOVERY_SECONDS
    print(
        f"\nredis outage {REDIS_OUTAGE:.0f} s: {len(recorder.calls)} requests, "
        f"slowest {recorder.slowest():.2f} s, {kinds}; recovered in "
        f"{recovered_in:.1f} s; {len(deliveries)} mails, {len(emails_sent)} emails"
    )
