"""Scenario 6: beat down for 30 minutes of the SLA's time, then two sweeps at once.

500 Business tickets' response clocks fall due over two hours on a business
calendar in Europe/Berlin, across the end of summer time (25 October 2026, 01:00
UTC: the hour from 02:00 to 03:00 local happens twice). The sweeps ran until
90 minutes in, then beat stopped; the last 30 minutes of deadlines passed
unswept. (Simulated time: the clocks are seeded in the past, so everything after
the stop is overdue when the rig resumes; nothing in the product is patched.)
When the rig resumes, two sweeps run at once and beat starts again: every breach
is recorded exactly once, at its due time, and notified exactly once, within one
sweep interval; the mails go out once each.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from .processes import wait_until
from .stubs import MailStub

TICKETS = 500
FIRST_DUE = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 CEST
SPREAD = timedelta(hours=2)  # to 03:00 CET: the DST change at 01:00 UTC inside
BEAT_STOPPED_AT = FIRST_DUE + timedelta(minutes=90)
SWEEP_INTERVAL = 10.0  # seconds, this scenario's beat (30 s in production)

pytestmark = pytest.mark.timeout(240)


def test_after_beat_downtime_every_breach_is_recorded_and_notified_once(
    rig, mail_stub: MailStub
):
    rig.driver("seed", contacts=1)
    before = rig.driver(
        "sla_backlog",
        count=TICKETS,
        first_due=FIRST_DUE.isoformat(),
        spread_minutes=int(SPREAD.total_seconds() // 60),
        stop_at=BEAT_STOPPED_AT.isoformat(),
    )
    clocks = rig.driver(
        "sql",
        query="SELECT started_at, due_at FROM sla_responseclock ORDER BY due_at",
    )
    # Two business hours are two real hours on a calendar open around the clock,
    # also for the clocks that run through the repeated hour.
    durations = {
        datetime.fromisoformat(due) - datetime.fromisoformat(start)
        for start, due in clocks
    }
    assert durations == {timedelta(hours=2)}
    dst_change = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    across = [
        c
        for c in clocks
        if datetime.fromisoformat(c[0]) < dst_change < datetime.fromisoformat(c[1])
    ]
    assert len(across) > 100
    missed = rig.driver(
        "scalar",
        query="SELECT count(*) FROM sla_responseclock WHERE breached_at IS NULL",
    )
    assert 0 < missed < TICKETS

    worker = rig.worker(concurrency=2, FAULTS_SWEEP_SECONDS=str(SWEEP_INTERVAL))
    worker.wait_ready()
    rig.driver("send_task", name="tickets.tasks.close_solved_tickets")  # connect
    resumed = time.monotonic()
    rig.driver("send_task", name="sla.tasks.sla_sweep", times=2)  # two at once
    beats = [rig.beat(FAULTS_SWEEP_SECONDS=str(SWEEP_INTERVAL)) for _ in range(2)]

    def caught_up() -> bool:
        return (
            rig.driver(
                "scalar",
                query="SELECT (SELECT count(*) FROM sla_responseclock "
                "WHERE breached_at IS NULL) + (SELECT count(*) FROM sla_slatransition "
                "WHERE notify AND notified_at IS NULL)",
            )
            == 0
        )

    wait_until(caught_up, timeout=60, interval=0.2, what="the sweeps to catch up")
    caught_up_in = time.monotonic() - resumed
    for beat in beats:
        beat.wait_ready()

    breaches = rig.driver(
        "sql",
        query="SELECT c.id, count(t.id), bool_and(t.occurred_at = c.due_at) "
        "FROM sla_responseclock c JOIN sla_slatransition t "
        "ON t.clock_id = c.id AND t.kind = 'breach' GROUP BY c.id",
    )
    assert len(breaches) == TICKETS
    assert all(count == 1 and on_time for _id, count, on_time in breaches)
    late = rig.driver(
        "sql",
        query="SELECT count(*), bool_and(d.event_key IS NOT NULL) FROM "
        "sla_slatransition t LEFT JOIN notifications_emaildelivery d "
        "ON d.event_key = 'sla_transition:' || t.id "
        "WHERE t.kind = 'breach' AND t.occurred_at > %s",
        params=[BEAT_STOPPED_AT.isoformat()],
    )[0]
    assert late == [missed, True]

    def mailed() -> bool:
        pending = rig.driver(
            "scalar",
            query="SELECT count(*) FROM notifications_emaildelivery "
            "WHERE status <> 'sent'",
        )
        return pending == 0

    wait_until(mailed, timeout=90, interval=0.5, what="the breach mails")
    deliveries = rig.driver(
        "sql",
        query="SELECT d.message_id, count(*) OVER (PARTITION BY d.event_key, "
        "d.recipient_id) FROM notifications_emaildelivery d "
        "JOIN sla_slatransition t ON d.event_key = 'sla_transition:' || t.id "
        "WHERE t.occurred_at > %s",
        params=[BEAT_STOPPED_AT.isoformat()],
    )
    assert deliveries
    assert all(per_key == 1 for _mid, per_key in deliveries)
    received = mail_stub.by_message_id()
    assert all(len(received.get(mid, [])) == 1 for mid, _n in deliveries)
    assert caught_up_in <= SWEEP_INTERVAL, caught_up_in
    print(
        f"\n{TICKETS} clocks ({len(across)} across the DST change), "
        f"{before['recorded_before_stop']} transitions before the stop, {missed} "
        f"breaches missed while beat was down: recorded and notified "
        f"{caught_up_in:.1f} s after resuming; {len(deliveries)} mails"
    )
