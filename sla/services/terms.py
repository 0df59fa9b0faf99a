"""What a clock runs against: the tier's target for a priority, and the calendar.

Read in bulk (one query for the targets, one for the calendars) because the email
gateway starts a batch of clocks at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tickets.models import Organization, Ticket

from .. import calendars, rules
from ..models import (
    BusinessCalendar,
    Clock,
    ResponseClock,
    ResponseTarget,
    TargetUnit,
)

logger = logging.getLogger(__name__)


# When no target is configured for a tier and priority, fall back to best effort by
# the end of the business day, so a ticket is never left without a due time.
FALLBACK_SPEC = rules.TargetSpec(
    amount=1,
    unit=TargetUnit.END_OF_BUSINESS_DAY,
    clock=Clock.BUSINESS,
    guaranteed=False,
)


# Given a locked running clock: the (priority, target row, spec) it should run on.
TermsFor = Callable[
    [ResponseClock], tuple[int, "ResponseTarget | None", rules.TargetSpec]
]


@dataclass(frozen=True)
class _Terms:
    """What a clock of one ticket and priority runs against."""

    tier_id: int
    target: ResponseTarget | None
    spec: rules.TargetSpec
    calendar: BusinessCalendar | None


def _organizations_of(tickets: Sequence[Ticket]) -> dict[int, Organization]:
    """Each ticket's organisation, reusing the rows a caller already loaded.

    The email and portal paths read the organisation (with its tier) through the
    access gate in the same transaction; reading it again buys nothing. The rest
    come in one query.
    """
    field = Ticket._meta.get_field("organization")
    found = {
        ticket.organization_id: ticket.organization
        for ticket in tickets
        if field.is_cached(ticket)
    }
    missing = {ticket.organization_id for ticket in tickets} - found.keys()
    if missing:
        found.update(Organization.objects.in_bulk(missing))
    return found


def _terms_for(requests: Sequence[tuple[Ticket, int]]) -> list[_Terms]:
    """The terms of each (ticket, priority): one query for the targets, one for
    the calendars, however many tickets."""
    organizations = _organizations_of([ticket for ticket, _priority in requests])
    keys = {
        (organizations[ticket.organization_id].tier_id, priority)
        for ticket, priority in requests
    }
    targets: dict[tuple[int, int], ResponseTarget] = {}
    for row in ResponseTarget.objects.filter(
        tier_id__in={tier for tier, _ in keys},
        priority__in={priority for _, priority in keys},
    ).order_by("-pk"):
        targets[row.tier_id, row.priority] = row  # the lowest pk wins
    calendar_rows = calendars.calendar_rows_for(organizations.values())
    found = []
    for ticket, priority in requests:
        organization = organizations[ticket.organization_id]
        target = targets.get((organization.tier_id, priority))
        if target is None:
            logger.warning(
                "no response target for tier %s P%s; using best effort",
                organization.tier_id,
                priority,
            )
        found.append(
            _Terms(
                tier_id=organization.tier_id,
                target=target,
                spec=target.spec if target is not None else FALLBACK_SPEC,
                calendar=calendar_rows[organization.pk],
            )
        )
    return found


def _terms(ticket: Ticket, priority: int) -> _Terms:
    return _terms_for([(ticket, priority)])[0]


def _apply_terms(
    clock: ResponseClock,
    *,
    priority: int,
    target: ResponseTarget | None,
    spec: rules.TargetSpec,
) -> None:
    """Point a clock at a target and recompute its deadline from its start."""
    deadline = rules.deadline(
        clock.started_at, spec, calendars.business_calendar(clock.calendar)
    )
    clock.priority = priority
    clock.target = target
    clock.target_amount = spec.amount
    clock.target_unit = spec.unit
    clock.target_clock = spec.clock
    clock.guaranteed = spec.guaranteed
    clock.due_at = deadline.due_at
    clock.at_risk_at = deadline.at_risk_at
