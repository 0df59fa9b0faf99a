"""The SLA in the customer's words: target, business calendar, due time.

For the ticket page and the new-ticket form: "Due Thu 12:00 EST: 1 business day;
business hours Mon-Fri 09:00-17:00 (UTC)". Reads the organisation's calendar
(one query, computed calendars are cached per process) and the tier's targets.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Organization, Ticket

from . import calendars, rules
from .models import ResponseTarget

UPCOMING_CLOSURE_DAYS = 45


@dataclass(frozen=True)
class Closure:
    day: date
    name: str


@dataclass(frozen=True)
class BusinessHours:
    """The calendar business-day and business-hour targets count in."""

    hours: str  # "Mon-Fri 09:00-17:00 (UTC)"
    holidays: str  # "public holidays in US are closed" or ""
    upcoming: list[Closure]


def business_hours(
    organization: Organization, *, today: date | None = None
) -> BusinessHours:
    """The organisation's working hours, holiday rule and closures coming up."""
    row = calendars.calendar_rows_for([organization])[organization.pk]
    calendar = calendars.business_calendar(row)
    today = today or timezone.localdate()
    closed = calendar.closed_dates
    public = getattr(closed, "public", None)
    upcoming = [
        Closure(
            day, str(public.get(day)) if public is not None and day in public else ""
        )
        for day in (today + timedelta(days=n) for n in range(UPCOMING_CLOSURE_DAYS))
        if day in closed and day.weekday() in {i.weekday for i in calendar.intervals}
    ]
    holidays = ""
    if row is not None and row.holiday_country:
        region = row.holiday_country + (
            f"-{row.holiday_subdivision}" if row.holiday_subdivision else ""
        )
        holidays = _("closed on public holidays in %(region)s") % {"region": region}
    return BusinessHours(
        hours=calendars.describe_hours(calendar), holidays=holidays, upcoming=upcoming
    )


def due_if_opened_now(
    organization: Organization, target: ResponseTarget, *, now: datetime | None = None
) -> datetime:
    """When support's first response would be due for a ticket opened now."""
    row = calendars.calendar_rows_for([organization])[organization.pk]
    calendar = calendars.business_calendar(row)
    return rules.deadline(now or timezone.now(), target.spec, calendar).due_at


@dataclass(frozen=True)
class TicketExpectations:
    target: ResponseTarget | None
    hours: BusinessHours | None  # only for targets that count business time


def ticket_expectations(ticket: Ticket) -> TicketExpectations:
    """The target a ticket runs against and, if it counts business time, the
    calendar (two queries; for the cached ticket page)."""
    target = (
        ResponseTarget.objects.filter(
            tier_id=ticket.organization.tier_id, priority=ticket.priority
        )
        .select_related("tier")
        .first()
    )
    hours = (
        business_hours(ticket.organization)
        if target is not None and target.spec.uses_calendar
        else None
    )
    return TicketExpectations(target=target, hours=hours)
