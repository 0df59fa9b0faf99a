"""When to try again: one backoff policy, and one sweep for rows nobody queued.

Every retried thing (an email delivery, a Slack post, a task whose database went
away) waits ``first * 2**(attempts - 1)`` seconds after its ``attempts``-th
failure, at most ``cap``; only the two numbers differ. Rows that describe work
(an outbox delivery, a stored inbound message) carry a ``queued_at`` so that a
periodic sweep hands each to a task once per ``SWEEP_REQUEUE_AFTER_SECONDS``: a
backlog after a broker outage is queued once, not at every run.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q


@dataclass(frozen=True)
class Backoff:
    """``first`` seconds after the first failure, doubling, at most ``cap``."""

    first: float
    cap: float

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure (0 counts as the first)."""
        return timedelta(seconds=min(self.first * 2 ** max(attempts - 1, 0), self.cap))


# Celery's own retry of a task whose database is briefly away (``ProjectTask``):
# Celery computes ``retry_backoff * 2**retries`` capped at ``retry_backoff_max``,
# with jitter, which is this policy with retries = attempts - 1.
TASK_BACKOFF = Backoff(first=2, cap=60)


def rows_requeue(
    rows: "models.QuerySet[models.Model]",
    *,
    now: datetime,
    order_by: str,
    limit: int,
) -> list[int]:
    """Mark and return the ids of ``rows`` not queued within the requeue interval.

    ``rows`` is the work still waiting (a model with a ``queued_at`` field). Rows
    another sweep holds are skipped (``SKIP LOCKED``), so concurrent sweeps hand
    out disjoint sets; the caller sends a task per id after this commits, and
    the work itself is claimed again by the task, so a row queued twice is done
    once. At most ``limit`` ids, the first by ``order_by``.
    """
    requeue_before = now - timedelta(seconds=settings.SWEEP_REQUEUE_AFTER_SECONDS)
    with transaction.atomic(durable=True):
        due = list(
            rows.filter(Q(queued_at__isnull=True) | Q(queued_at__lt=requeue_before))
            .select_for_update(skip_locked=True)
            .order_by(order_by)
            .values_list("pk", flat=True)[:limit]
        )
        rows.model._default_manager.filter(pk__in=due).update(queued_at=now)
    return due
