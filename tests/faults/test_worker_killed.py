"""Scenario 2: workers SIGKILLed mid-task; every effect still happens exactly once.

Three Celery workers (one pool child each) process inbound email, send notifications
and run the SLA sweep while the test kills them, ``KILLS`` times per kind of work:
alternately a pool child (the main process requeues its task) and the main process
(its unacknowledged task stays in Redis until the visibility timeout; the sweeps
must find the work again), each time in one phase of the task, at a random moment
inside it: *before* the side effect (task started, nothing written), *during* it
(inside the write, or the SMTP conversation) and *after* it (committed, not yet
acknowledged). A killed main process is restarted at once. The injector announces
the phases (``phases.jsonl``) and lingers ``PHASE_DELAY`` seconds in each.

Meanwhile a poison message kills whichever child parses it; it must be parked after
5 deliveries. At the end: one comment per stored message, one breach record per
clock, one notification row per event and recipient, all sent, and one message
per row at the mail stub (by Message-ID; see docs/reliability.md for the resend
window of at-least-once delivery).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from .clients import reply_email, smtp_store
from .processes import wait_until
from .stubs import MailStub

KILLS = int(os.environ.get("FAULTS_KILLS", "20"))  # per kind of work
PHASE_DELAY = 0.2
WORKERS = 3  # while a killed one restarts, the others carry on
PHASES = ("before", "during", "after")
TASKS = {
    "inbound": "notifications.tasks.process_inbound",
    "notification": "notifications.tasks.deliver_event",
    "sla": "sla.tasks.sla_sweep",
}

pytestmark = pytest.mark.timeout(400)


class PhaseLog:
    """The injector's announcements, read as they are appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines: list[dict[str, Any]] = []

    def poll(self) -> list[dict[str, Any]]:
        if self.path.exists():
            with self.path.open("rb") as log:
                log.seek(self.offset)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            self.lines += [json.loads(line) for line in complete.splitlines()]
        return self.lines

    def find(self, since: float, **match: Any) -> dict[str, Any] | None:
        for line in self.poll():
            if line["t"] >= since and all(line.get(k) == v for k, v in match.items()):
                return line
        return None


def test_workers_killed_mid_task_leave_every_effect_exactly_once(
    rig, mail_stub: MailStub
):
    rng = random.Random(int(os.environ.get("FAULTS_SEED", "7")))
    world = rig.driver("seed", contacts=3, tickets=3)
    contacts = world["contacts"]
    workers = [
        rig.worker(concurrency=1, FAULTS_PHASE_DELAY=str(PHASE_DELAY))
        for _ in range(WORKERS)
    ]
    others = [rig.beat(), rig.receiver()]
    for service in (*workers, *others):
        service.wait_ready()
    state = Path(rig.env["FAULTS_STATE_DIR"])
    phases = PhaseLog(state / "phases.jsonl")

    def aim(task: str | None = None, args: list[Any] | None = None) -> None:
        """Slow down (and announce the phases of) this task only; None: none."""
        target = state / "target.json"
        target.with_suffix(".tmp").write_text(
            json.dumps({"task": task, "args": args} if task else {})
        )
        target.with_suffix(".tmp").replace(target)
        if task is None:
            mail_stub.delay = 0.0

    addresses = {
        c["email"]: rig.driver(
            "reply_address", ticket=world["tickets"][0], user=c["id"]
        )
        for c in contacts
    }

    def store(sender: str, body: str, **headers: str) -> tuple[int, str]:
        raw, message_id = reply_email(
            sender=sender, to=addresses[sender], body=body, headers=headers
        )
        code, text = smtp_store(rig.smtp_port, sender, addresses[sender], raw)
        assert code == 250, text
        return int(re.search(r"stored as (\d+)", text)[1]), message_id

    poison_id, _ = store(
        contacts[0]["email"], "This one kills.", **{"X-Faults-Poison": "kill"}
    )

    stored: dict[int, str] = {}  # inbound id -> Message-ID
    comments: list[int] = []
    clocks: list[int] = []
    kills: dict[str, list[tuple[str, str]]] = {kind: [] for kind in TASKS}
    missed = 0
    n = 0
    waited = pickup = 0.0
    loop_started = time.monotonic()
    while min(len(done) for done in kills.values()) < KILLS:
        kind = list(TASKS)[n % 3]
        n += 1
        j = len(kills[kind])
        if j >= KILLS:
            continue
        # Child and main kills alternate from one iteration to the next (so one
        # worker is up while the other restarts); per kind, every pair of kills
        # covers both modes in one phase, and the phases rotate.
        mode = ("child", "main")[(j + list(TASKS).index(kind)) % 2]
        phase = PHASES[(j // 2) % 3]
        since = time.time()
        step = time.monotonic()
        if kind == "inbound":
            # Senders take turns (one alone would pass the rate limit).
            sender = contacts[len(stored) % len(contacts)]["email"]
            # The id is known only once stored; aim at the next one to be stored.
            next_id = 1 + rig.driver(
                "scalar",
                query="SELECT coalesce(max(id), 0) FROM notifications_inboundmessage",
            )
            aim(TASKS[kind], [next_id])
            inbound_id, message_id = store(sender, f"Reply {n} by mail.")
            assert inbound_id == next_id
            stored[inbound_id] = message_id
            match: dict[str, Any] = {"task": TASKS[kind], "args": [inbound_id]}
        elif kind == "notification":
            mail_stub.delay = PHASE_DELAY  # the SMTP conversation is 'during' too
            comment = rig.driver(
                "comment",
                ticket=world["tickets"][n % 3],
                email=contacts[n % len(contacts)]["email"],
                body=f"Update {n}.",
                aim_task=TASKS[kind],  # aimed before it commits
            )
            comments.append(comment)
            match = {"task": TASKS[kind], "args": [f"comment:{comment}"]}
        else:
            clocks += rig.driver("breach_clocks", count=1)
            aim(TASKS[kind])
            rig.driver("send_task", name=TASKS[kind])  # beat's next run may be late
            match = {"task": TASKS[kind]}
        try:
            picked = time.monotonic()
            started = wait_until(
                lambda since=since, match=match: phases.find(
                    since, phase="before", **match
                ),
                timeout=20,
                interval=0.02,
                what=f"{kind} task to start",
            )
            pickup += time.monotonic() - picked
            target = wait_until(
                lambda since=since, phase=phase, started=started: phases.find(
                    since, phase=phase, id=started["id"]
                ),
                timeout=20,
                interval=0.01,
                what=f"{kind} task to reach {phase}",
            )
        except TimeoutError:
            aim()
            missed += 1  # e.g. an earlier kill took the task: the sweeps will do it
            assert missed <= KILLS, "too many tasks never reached their phase"
            continue
        waited += time.monotonic() - step
        # A random moment inside the phase ('during' a mail: claimed, then SMTP).
        span = PHASE_DELAY * (2 if (kind, phase) == ("notification", "during") else 1)
        time.sleep(rng.uniform(0.02, span * 0.9))
        child = target["pid"]
        owner = next(w for w in workers if w.running() and child in w.children())
        if mode == "child":
            os.kill(child, 9)
        else:
            owner.kill()
            owner.start()  # restarted at once, ready when it is ready
        aim()
        kills[kind].append((mode, phase))

    loop_seconds = time.monotonic() - loop_started
    # Every worker back, then let the sweeps finish what the kills interrupted.
    for worker in workers:
        if not worker.running():
            worker.start()
        worker.wait_ready()

    def settled() -> bool:
        pending = rig.driver(
            "scalar",
            query="""SELECT
              (SELECT count(*) FROM notifications_inboundmessage
                WHERE status = 'received')
            + (SELECT count(*) FROM notifications_emaildelivery WHERE status <> 'sent')
            + (SELECT count(*) FROM sla_slatransition WHERE notify
                AND notified_at IS NULL)
            + (SELECT count(*) FROM sla_responseclock WHERE breached_at IS NULL
                AND id = ANY(%s))""",
            params=[clocks],
        )
        rows = rig.driver(
            "scalar", query="SELECT count(*) FROM notifications_emaildelivery"
        )
        return pending == 0 and len(mail_stub.by_message_id()) >= rows

    settle_started = time.monotonic()
    wait_until(settled, timeout=90, interval=0.5, what="the sweeps to catch up")
    settle_seconds = time.monotonic() - settle_started

    assert all(len(done) == KILLS for done in kills.values())
    for done in kills.values():  # every mode and phase was hit
        assert set(done) == {(m, p) for m in ("child", "main") for p in PHASES}

    # The poison message was parked after 5 deliveries, and only it.
    parked = rig.driver(
        "sql",
        query="SELECT id, attempts, reason FROM notifications_inboundmessage "
        "WHERE status = 'parked'",
    )
    assert [(row[0], row[1]) for row in parked] == [(poison_id, 6)]
    assert "parked" in parked[0][2]

    # One comment per stored message.
    per_message = rig.driver(
        "sql",
        query="SELECT m.id, m.status, count(c.id) FROM notifications_inboundmessage m "
        "LEFT JOIN tickets_comment c ON c.id = m.comment_id "
        "WHERE m.id = ANY(%s) GROUP BY m.id, m.status",
        params=[list(stored)],
    )
    assert sorted(per_message) == sorted([i, "processed", 1] for i in stored)
    by_message_id = rig.driver(
        "sql",
        query="SELECT email_message_id, count(*) FROM tickets_comment "
        "WHERE source = 'email' GROUP BY email_message_id",
    )
    assert len(by_message_id) == len(stored)
    assert all(count == 1 for _mid, count in by_message_id)

    # One breach record per clock, notified once.
    breaches = rig.driver(
        "sql",
        query="SELECT clock_id, count(*), bool_and(notified_at IS NOT NULL) "
        "FROM sla_slatransition WHERE kind = 'breach' AND clock_id = ANY(%s) "
        "GROUP BY clock_id",
        params=[clocks],
    )
    assert sorted(breaches) == sorted([c, 1, True] for c in clocks)
    unnotified = rig.driver(
        "scalar",
        query="SELECT count(*) FROM sla_slatransition t WHERE t.kind = 'breach' "
        "AND NOT EXISTS (SELECT 1 FROM notifications_emaildelivery d "
        "WHERE d.event_key = 'sla_transition:' || t.id)",
    )
    assert unnotified == 0

    # One notification row per event and recipient (the unique key), every row
    # sent, and each row one message at the mail stub.
    deliveries = rig.driver(
        "sql",
        query="SELECT message_id, lower(to_address), event_key "
        "FROM notifications_emaildelivery",
    )
    for comment in comments:
        assert any(key == f"comment:{comment}" for _m, _a, key in deliveries)
    received = mail_stub.by_message_id()
    assert sorted(received) == sorted(mid for mid, _a, _k in deliveries)
    for message_id, address, _key in deliveries:
        assert {tuple(r.to) for r in received[message_id]} == {(address,)}
    resent = sum(len(copies) - 1 for copies in received.values())
    print(
        f"\n{sum(map(len, kills.values()))} kills ({missed} tasks missed their "
        f"phase), {len(stored)} emails, {len(comments)} comments, {len(clocks)} "
        f"clocks, {len(deliveries)} mails; {resent} resent with the same "
        f"Message-ID (killed between the SMTP reply and the mark); kill loop "
        f"{loop_seconds:.0f} s ({waited:.0f} s waiting for tasks, {pickup:.0f} s "
        f"of it for a worker to take them), caught up in "
        f"{settle_seconds:.0f} s"
    )
