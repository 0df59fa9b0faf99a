"""Recording at-risk and breach crossings, each once per (clock, kind)."""

from __future__ import annotations

import logging
from datetime import datetime

from scalr_support.common.tasks import enqueue_on_commit

from ..models import (
    ResponseClock,
    SlaTransition,
    TransitionKind,
)

logger = logging.getLogger(__name__)


def _crossed(
    clock: ResponseClock, now: datetime, *, notify: bool
) -> list[SlaTransition]:
    """Return the transitions this clock has crossed by ``now`` and not recorded.

    Marks them recorded on the clock (in memory; the caller saves). An at-risk
    crossing found together with the breach is recorded without a notification:
    the breach notice supersedes it.
    """
    found = []
    breach = clock.guaranteed and clock.breached_at is None and clock.due_at <= now
    if (
        clock.at_risk_at is not None
        and clock.at_risk_recorded_at is None
        and clock.at_risk_at <= now
    ):
        clock.at_risk_recorded_at = now
        found.append(
            SlaTransition(
                clock=clock,
                kind=TransitionKind.AT_RISK,
                occurred_at=clock.at_risk_at,
                recorded_at=now,
                notify=notify and not breach,
            )
        )
    if breach:
        clock.breached_at = clock.due_at
        found.append(
            SlaTransition(
                clock=clock,
                kind=TransitionKind.BREACH,
                occurred_at=clock.due_at,
                recorded_at=now,
                notify=notify,
            )
        )
    return found


def _transitions_insert(rows: list[SlaTransition]) -> list[SlaTransition]:
    """Insert transitions, skipping any (clock, kind) already recorded.

    ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (clock, kind) pair: the
    database settles a race between two writers. Returns the rows this call
    inserted, read back by their shared ``recorded_at``.
    """
    if not rows:
        return []
    SlaTransition.objects.bulk_create(rows, ignore_conflicts=True)
    wanted = {(row.clock_id, row.kind): row for row in rows}
    stored = SlaTransition.objects.filter(
        clock_id__in={row.clock_id for row in rows},
        recorded_at__in={row.recorded_at for row in rows},
    ).only("clock_id", "kind", "recorded_at", "notify")
    return [
        transition
        for transition in stored
        if (transition.clock_id, transition.kind) in wanted
        and transition.recorded_at
        == wanted[(transition.clock_id, transition.kind)].recorded_at
    ]


def _notify_on_commit(inserted: list[SlaTransition]) -> None:
    """Have the notification task run after commit if anything needs telling.

    One message for the whole batch; if it is lost, the next sweep finds the rows
    still unmarked (``sla_notifications_queue``), so a lost message is a delay.
    """
    if any(transition.notify for transition in inserted):
        from ..tasks import sla_notify

        enqueue_on_commit(sla_notify)
