"""Recomputing running clocks when their terms change, each recomputation recorded."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import QuerySet

from tickets.models import PriorityChange, Ticket

from ..models import (
    ResponseClock,
    SlaRecomputation,
    SlaTransition,
)
from .terms import TermsFor, _apply_terms
from .ticket_copy import _sync_ticket
from .transitions import _crossed, _notify_on_commit, _transitions_insert

logger = logging.getLogger(__name__)


_CLOCK_DEADLINE_FIELDS = [
    "priority",
    "target",
    "target_amount",
    "target_unit",
    "target_clock",
    "guaranteed",
    "due_at",
    "at_risk_at",
    "at_risk_recorded_at",
    "breached_at",
]


def _recompute(
    clocks: list[ResponseClock],
    *,
    terms_for: TermsFor,
    reason: str,
    now: datetime,
    tickets: dict[int, Ticket],
    priority_change: PriorityChange | None = None,
) -> tuple[list[SlaRecomputation], int]:
    """Recompute locked running clocks; record each recomputation and crossing.

    ``terms_for(clock)`` gives (priority, target, spec). Tickets must be locked by
    the caller. Returns the recomputation rows and how many transitions were
    recorded.
    """
    recomputations = []
    crossings: list[SlaTransition] = []
    for clock in clocks:
        old_due, old_label = clock.due_at, clock.target_label
        priority, target, spec = terms_for(clock)
        _apply_terms(clock, priority=priority, target=target, spec=spec)
        recomputations.append(
            SlaRecomputation(
                clock=clock,
                reason=reason,
                priority_change=priority_change,
                old_target=old_label,
                new_target=clock.target_label,
                old_due_at=old_due,
                new_due_at=clock.due_at,
                created_at=now,
            )
        )
        crossings.extend(_crossed(clock, now, notify=True))
    ResponseClock.objects.bulk_update(clocks, _CLOCK_DEADLINE_FIELDS)
    SlaRecomputation.objects.bulk_create(recomputations)
    inserted = _transitions_insert(crossings)
    _notify_on_commit(inserted)
    for clock in clocks:
        _sync_ticket(tickets[clock.ticket_id], clock)
    return recomputations, len(inserted)


def _recompute_running(
    clocks: QuerySet[ResponseClock],
    *,
    terms_for: TermsFor,
    reason: str,
    now: datetime,
) -> int:
    """Lock the tickets of running clocks, then the clocks, and recompute them."""
    ticket_ids = list(
        clocks.filter(responded_at__isnull=True).values_list("ticket_id", flat=True)
    )
    if not ticket_ids:
        return 0
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update()
        .filter(pk__in=ticket_ids)
        .order_by("pk")
    }
    locked = list(
        clocks.filter(responded_at__isnull=True, ticket_id__in=tickets)
        .select_for_update(of=("self",))
        .select_related("calendar")
        .order_by("pk")
    )
    _recompute(locked, terms_for=terms_for, reason=reason, now=now, tickets=tickets)
    return len(locked)
