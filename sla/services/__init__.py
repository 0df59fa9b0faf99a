"""Every write to response clocks, SLA transitions, targets and calendars.

Lock order, everywhere: the ticket row first, then its clock. The ticket services
hold the ticket lock when they call the three ``response_clock_*`` hooks
(``clocks``); the target and calendar changes (``targets``) lock the affected
tickets before their clocks; the sweep (``sweep``) locks clocks only, skipping
locked ones, and never writes a ticket, so it cannot deadlock with either. The
denormalised SLA fields on ``Ticket`` are written here only (``ticket_copy``), in
the caller's transaction.
"""

from .clocks import (
    response_clock_reprioritise,
    response_clock_start_first,
    response_clocks_handle_comments,
)
from .sweep import (
    AT_RISK_PENDING,
    BREACH_PENDING,
    NOTIFY_BATCH,
    SWEEP_BATCH,
    SWEEP_MAX_BATCHES,
    sla_notifications_queue,
    sla_transitions_record,
)
from .targets import TargetChange, business_calendar_changed, response_target_set
from .terms import FALLBACK_SPEC
from .ticket_copy import TICKET_SLA_FIELDS

__all__ = [
    "AT_RISK_PENDING",
    "BREACH_PENDING",
    "FALLBACK_SPEC",
    "NOTIFY_BATCH",
    "SWEEP_BATCH",
    "SWEEP_MAX_BATCHES",
    "TICKET_SLA_FIELDS",
    "TargetChange",
    "business_calendar_changed",
    "response_clock_reprioritise",
    "response_clock_start_first",
    "response_clocks_handle_comments",
    "response_target_set",
    "sla_notifications_queue",
    "sla_transitions_record",
]
