"""factory-boy factories for the SLA app: calendars and response clocks."""

from datetime import UTC, date, datetime, time, timedelta

import factory

from sla.models import (
    BusinessCalendar,
    CalendarDate,
    ClockKind,
    ResponseClock,
    WorkingInterval,
)

from . import TicketFactory


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    """A calendar with Monday-Friday 09:00-17:00 unless ``intervals`` is given.

    ``intervals``: a list of (weekday, start, end) tuples.
    """

    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "UTC"

    @factory.post_generation
    def intervals(
        obj: BusinessCalendar, create: bool, extracted: object, **kwargs: object
    ) -> None:
        if not create:
            return
        spans = (
            extracted
            if extracted is not None
            else [(day, time(9), time(17)) for day in range(5)]
        )
        WorkingInterval.objects.bulk_create(
            WorkingInterval(calendar=obj, weekday=day, start=start, end=end)
            for day, start, end in spans  # type: ignore[attr-defined]
        )


class CalendarDateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarDate

    calendar = factory.SubFactory(BusinessCalendarFactory)
    date = factory.Sequence(lambda n: date(2026, 1, 1) + timedelta(days=n))
    kind = CalendarDate.Kind.CLOSED


class ResponseClockFactory(factory.django.DjangoModelFactory):
    """A running 2-hour 24x7 clock (Business P0) that started ``started_at``."""

    class Meta:
        model = ResponseClock

    ticket = factory.SubFactory(TicketFactory, priority=0)
    kind = ClockKind.FIRST_RESPONSE
    started_at = factory.LazyFunction(lambda: datetime.now(UTC))
    tier = factory.LazyAttribute(lambda o: o.ticket.organization.tier)
    priority = 0
    target_amount = 2
    target_unit = "h"
    target_clock = "24x7"
    guaranteed = True
    due_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=2))
    at_risk_at = factory.LazyAttribute(
        lambda o: o.due_at - timedelta(minutes=30) if o.guaranteed else None
    )
