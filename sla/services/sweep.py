"""The periodic sweep: crossings recorded once, then turned into notifications.

The sweep locks clocks only, skipping locked ones, and never writes a ticket, so
it cannot deadlock with the ticket services.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from ..models import (
    ResponseClock,
    SlaTransition,
    TransitionKind,
)
from ..notify import transitions_notify
from .transitions import _crossed, _notify_on_commit, _transitions_insert

logger = logging.getLogger(__name__)


SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 200

# Running clocks still waiting for a transition: the predicates of the sweep's
# partial indexes (sla_clock_at_risk_pending, sla_clock_breach_pending).
AT_RISK_PENDING = Q(
    responded_at__isnull=True,
    at_risk_recorded_at__isnull=True,
    at_risk_at__isnull=False,
)
BREACH_PENDING = Q(responded_at__isnull=True, breached_at__isnull=True, guaranteed=True)
# What the sweep reads of a clock: enough to decide its crossings.
_SWEEP_FIELDS = (
    "ticket_id",
    "guaranteed",
    "due_at",
    "at_risk_at",
    "at_risk_recorded_at",
    "breached_at",
)


def sla_transitions_record(
    *, now: datetime | None = None, batch_size: int = SWEEP_BATCH
) -> int:
    """The sweep: record every at-risk and breach crossing due by ``now``, once.

    Reads only clocks waiting for a transition whose threshold has passed (two
    range scans on partial indexes), so its cost follows the number of crossings,
    not of open tickets. Safe to run concurrently and after a gap: clocks are
    taken with ``SKIP LOCKED``, each recorded transition takes the clock out of its
    index, and the unique (clock, kind) pair makes a second record impossible.
    The transitions are the notification outbox: the ``sla_notify`` task, sent on
    commit, turns them into emails. Returns how many transitions were recorded.
    """
    now = now or timezone.now()
    total = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        recorded, more = _sweep_batch(now, batch_size)
        total += recorded
        if not more:
            break
    if total:
        logger.info("sla sweep recorded %s transitions", total)
    return total


def _sweep_batch(now: datetime, batch_size: int) -> tuple[int, bool]:
    with transaction.atomic(durable=True):
        pending = ResponseClock.objects.select_for_update(
            skip_locked=True, of=("self",)
        ).only(*_SWEEP_FIELDS)
        at_risk = list(
            pending.filter(AT_RISK_PENDING, at_risk_at__lte=now).order_by("at_risk_at")[
                :batch_size
            ]
        )
        breach = list(
            pending.filter(BREACH_PENDING, due_at__lte=now).order_by("due_at")[
                :batch_size
            ]
        )
        clocks = {clock.pk: clock for clock in (*at_risk, *breach)}
        rows: list[SlaTransition] = []
        for clock in clocks.values():
            rows.extend(_crossed(clock, now, notify=True))
        inserted = _transitions_insert(rows)
        _mark_recorded(rows, now)
        _notify_on_commit(inserted)
    more = len(at_risk) == batch_size or len(breach) == batch_size
    return len(inserted), more


def _mark_recorded(rows: list[SlaTransition], now: datetime) -> None:
    """Take clocks out of the sweep's partial indexes: one UPDATE per batch.

    One statement, and one new row version per clock even when both of its
    transitions were recorded at once.
    """
    at_risk = [row.clock_id for row in rows if row.kind == TransitionKind.AT_RISK]
    breach = [row.clock_id for row in rows if row.kind == TransitionKind.BREACH]
    if not rows:
        return
    ResponseClock.objects.filter(pk__in={*at_risk, *breach}).update(
        at_risk_recorded_at=Case(
            When(pk__in=at_risk, then=Value(now)), default=F("at_risk_recorded_at")
        ),
        breached_at=Case(
            When(pk__in=breach, then=F("due_at")), default=F("breached_at")
        ),
    )


NOTIFY_BATCH = 100


def sla_notifications_queue(*, now: datetime | None = None) -> int:
    """Turn recorded transitions into email notifications, each exactly once.

    Claims unmarked transitions (``notify`` and no ``notified_at``) with ``SKIP
    LOCKED``, queues their emails through the notifications outbox and marks them,
    in one transaction per batch: a transition is marked if and only if its
    delivery rows exist. The deliveries are also unique per ``sla_transition:<id>``
    and recipient, so even a replayed batch mails nobody twice. Returns how many
    transitions were notified.
    """
    now = now or timezone.now()
    total = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        with transaction.atomic(durable=True):
            pending = list(
                SlaTransition.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(notify=True, notified_at__isnull=True)
                .select_related(
                    "clock__ticket__assignee", "clock__ticket__organization"
                )
                .order_by("recorded_at", "id")[:NOTIFY_BATCH]
            )
            queued = transitions_notify(pending)
            SlaTransition.objects.filter(pk__in=queued).update(notified_at=now)
        total += len(queued)
        if len(pending) < NOTIFY_BATCH:
            break
    return total
