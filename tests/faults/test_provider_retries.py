"""Scenario 5: the provider delivers one inbound message three times.

The first delivery fails inside our handler after the message was stored (the
injector raises there), so the provider retries; it then delivers the same payload
twice at once. The customer's reply becomes one comment with one set of
notifications; the duplicates answer 2xx and are recorded as ignored.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from .clients import reply_email, webhook_post
from .conftest import WEBHOOK_SECRET
from .processes import wait_until
from .stubs import MailStub

pytestmark = pytest.mark.timeout(180)


def test_a_message_delivered_three_times_two_at_once_is_one_comment(
    rig, mail_stub: MailStub
):
    world = rig.driver("seed", contacts=2, tickets=1)
    for service in (rig.worker(concurrency=2), rig.beat(), rig.web()):
        service.wait_ready()
    contact = world["contacts"][0]
    number = world["tickets"][0]
    to = rig.driver("reply_address", ticket=number, user=contact["id"])
    raw, message_id = reply_email(
        sender=contact["email"],
        to=to,
        body="Restarting the agent fixed it, thanks.",
        headers={"X-Faults-Fail-First": "provider-retry"},
    )

    first = webhook_post(rig.web_port, raw, WEBHOOK_SECRET)
    with ThreadPoolExecutor(max_workers=2) as pool:
        retries = list(
            pool.map(lambda _: webhook_post(rig.web_port, raw, WEBHOOK_SECRET), [1, 2])
        )

    assert first.status_code == 500
    assert first.json() == {
        "detail": "A server error occurred.",
        "code": "server_error",
    }
    assert [r.status_code for r in retries] == [200, 200]

    def settled():
        rows = rig.driver(
            "sql",
            query="SELECT status, count(*) FROM notifications_inboundmessage "
            "GROUP BY status ORDER BY status",
        )
        pending = rig.driver(
            "scalar",
            query="SELECT count(*) FROM notifications_emaildelivery "
            "WHERE status <> 'sent'",
        )
        done = pending == 0 and "received" not in {status for status, _ in rows}
        return rows if done else None

    statuses = wait_until(settled, timeout=60, interval=0.3, what="processing")
    assert statuses == [["ignored", 2], ["processed", 1]]
    comments = rig.driver(
        "sql",
        query="SELECT id, body FROM tickets_comment WHERE email_message_id IN (%s, %s)",
        params=[message_id, message_id.strip("<>")],
    )
    assert [body for _id, body in comments] == [
        "Restarting the agent fixed it, thanks."
    ]
    reasons = rig.driver(
        "sql",
        query="SELECT reason FROM notifications_inboundmessage "
        "WHERE status = 'ignored'",
    )
    assert all("Duplicate" in reason for [reason] in reasons), reasons
    # One set of notifications for the one comment, each mailed once.
    deliveries = rig.driver(
        "sql",
        query="SELECT message_id FROM notifications_emaildelivery WHERE event_key = %s",
        params=[f"comment:{comments[0][0]}"],
    )
    assert deliveries
    received = mail_stub.by_message_id()
    assert all(len(received.get(mid, [])) == 1 for [mid] in deliveries)
