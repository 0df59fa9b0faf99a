"""The ticket's denormalised copy of its clocks, written here only.

The ticket list and API order and filter by these fields without a join; they
are written in the caller's transaction, next to the clock they copy.
"""

from __future__ import annotations

import logging

from tickets.models import Ticket
from tickets.sla_state import TICKET_SLA_FIELDS

from ..models import (
    ClockKind,
    ResponseClock,
)

logger = logging.getLogger(__name__)


# The ticket's copy of its current clock (TICKET_SLA_FIELDS adds the first response's).
_CURRENT_CLOCK_FIELDS = [
    "sla_due_at",
    "sla_at_risk_at",
    "sla_best_effort",
    "sla_breached",
]


def _sync_ticket(
    ticket: Ticket, clock: ResponseClock, *, save_with: list[str] | None = None
) -> None:
    """Copy the current clock onto the ticket's SLA fields and save them.

    With ``save_with``, the fields are added to that list instead, for a caller
    that saves the locked ticket once after this (one UPDATE, not two).
    """
    running = clock.is_running
    ticket.sla_due_at = clock.due_at if running else None
    ticket.sla_at_risk_at = clock.at_risk_at if running else None
    ticket.sla_best_effort = not clock.guaranteed
    ticket.sla_breached = clock.breached_at is not None
    fields = _CURRENT_CLOCK_FIELDS
    if clock.kind == ClockKind.FIRST_RESPONSE:
        ticket.first_response_due_at = clock.due_at
        ticket.first_responded_at = clock.responded_at
        fields = TICKET_SLA_FIELDS
    if save_with is None:
        ticket.save(update_fields=fields)
    else:
        save_with.extend(f for f in fields if f not in save_with)
