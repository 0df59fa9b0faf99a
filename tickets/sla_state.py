"""A ticket's SLA state, read from the clock fields denormalised onto it.

The clocks themselves belong to ``sla``, which keeps these fields current (its
handlers run on the tickets' events); the state needs only the ticket's own
columns, so tickets' pages and queues show it without importing ``sla``, and
``sla.rules`` takes its definition from here. Pure Python, free of Django.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Protocol

ON_TRACK: Final = "on_track"
AT_RISK: Final = "at_risk"
BREACHED: Final = "breached"
MET: Final = "met"
BEST_EFFORT: Final = "best_effort"
SLA_STATES: Final = (ON_TRACK, AT_RISK, BREACHED, MET, BEST_EFFORT)

# The ticket's copy of its first-response clock and of its current clock.
TICKET_SLA_FIELDS: Final = [
    "first_response_due_at",
    "first_responded_at",
    "sla_due_at",
    "sla_at_risk_at",
    "sla_best_effort",
    "sla_breached",
]


def sla_state(
    *,
    now: datetime,
    has_clock: bool,
    best_effort: bool,
    breached: bool,
    due_at: datetime | None,
    at_risk_at: datetime | None,
) -> str | None:
    """Return a ticket's SLA state from its current clock.

    ``due_at`` and ``at_risk_at`` belong to the running clock (None when no clock
    runs); ``breached`` says whether the current clock's breach was recorded (a
    recorded breach stays, even if a re-prioritisation later moves the due time).
    A ticket without any clock has no state (None).
    """
    if not has_clock:
        return None
    if best_effort:
        return BEST_EFFORT
    if due_at is None:
        return BREACHED if breached else MET
    if breached or now >= due_at:
        return BREACHED
    if at_risk_at is not None and now >= at_risk_at:
        return AT_RISK
    return ON_TRACK


class ClockFields(Protocol):
    """What a ticket row carries of its clocks: a ``Ticket`` or a queue row."""

    @property
    def first_response_due_at(self) -> datetime | None: ...
    @property
    def sla_best_effort(self) -> bool: ...
    @property
    def sla_breached(self) -> bool: ...
    @property
    def sla_due_at(self) -> datetime | None: ...
    @property
    def sla_at_risk_at(self) -> datetime | None: ...


def sla_state_of(row: ClockFields, now: datetime) -> str | None:
    """``sla_state`` of a ticket or queue row, from its denormalised fields."""
    return sla_state(
        now=now,
        has_clock=row.first_response_due_at is not None,
        best_effort=row.sla_best_effort,
        breached=row.sla_breached,
        due_at=row.sla_due_at,
        at_risk_at=row.sla_at_risk_at,
    )
