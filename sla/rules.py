"""The SLA rules on top of the business-time arithmetic: still pure Python.

``calculations.py`` knows how to add business time; this module knows what the
policy means by a target ("2h on a 24x7 clock", "1 business day", "end of the
business day, best effort"), when a clock is at risk, which state a ticket is in and
how a manager writes a duration on the command line. Keeping it free of Django lets
the services, the sweep, the benchmark and the tests share one definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from tickets.sla_state import (
    AT_RISK,
    BEST_EFFORT,
    BREACHED,
    MET,
    ON_TRACK,
    SLA_STATES,
    sla_state,
)

from . import calculations
from .calculations import BusinessCalendar, Target

__all__ = [
    "AT_RISK",
    "AT_RISK_FRACTION",
    "AT_RISK_MINIMUM",
    "BEST_EFFORT",
    "BREACHED",
    "MET",
    "ON_TRACK",
    "SLA_STATES",
    "Deadline",
    "TargetSpec",
    "closed_dates_between",
    "deadline",
    "parse_duration",
    "skipped_time",
    "sla_state",
    "target_for",
]

# Units and clocks as stored on ResponseTarget (sla.models.TargetUnit and Clock).
MINUTES: Final = "m"
HOURS: Final = "h"
BUSINESS_DAYS: Final = "bd"
END_OF_BUSINESS_DAY: Final = "eod"
CONTINUOUS: Final = "24x7"
BUSINESS: Final = "business"


AT_RISK_FRACTION: Final = 0.25
"""A clock is at risk once less than this share of its target is left ..."""
AT_RISK_MINIMUM: Final = timedelta(minutes=30)
"""... or less than this much, whichever comes first."""

_DURATION = re.compile(r"^\s*(\d{1,6})\s*(m|h|bd)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """A response target as data: what ResponseTarget stores and a clock snapshots."""

    amount: int
    unit: str
    clock: str
    guaranteed: bool = True

    def __post_init__(self) -> None:
        """Refuse specs that could never be turned into a due time."""
        if self.unit not in (MINUTES, HOURS, BUSINESS_DAYS, END_OF_BUSINESS_DAY):
            raise ValueError(f"unknown target unit {self.unit!r}")
        if self.clock not in (CONTINUOUS, BUSINESS):
            raise ValueError(f"unknown target clock {self.clock!r}")
        if self.amount <= 0:
            raise ValueError(f"target amount must be positive, got {self.amount}")

    @property
    def uses_calendar(self) -> bool:
        """Tell whether the business calendar changes the due time of this target."""
        return self.clock == BUSINESS or self.unit in (
            BUSINESS_DAYS,
            END_OF_BUSINESS_DAY,
        )


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a clock is due and when it becomes at risk (None: best effort)."""

    due_at: datetime
    at_risk_at: datetime | None


def target_for(spec: TargetSpec, calendar: BusinessCalendar) -> Target:
    """Translate a stored target into the calculator's value.

    Minutes and hours run on the spec's clock (24x7 or business hours); business
    days always count business time, one day being the calendar's typical working
    day; "eod" is the best-effort end of the business day.
    """
    if spec.unit == END_OF_BUSINESS_DAY:
        return Target.end_of_business_day()
    if spec.unit == BUSINESS_DAYS:
        return Target.business_days(spec.amount, calendar)
    amount = (
        timedelta(minutes=spec.amount)
        if spec.unit == MINUTES
        else timedelta(hours=spec.amount)
    )
    if spec.clock == CONTINUOUS:
        return Target.elapsed(amount)
    return Target.business(amount)


def deadline(start: datetime, spec: TargetSpec, calendar: BusinessCalendar) -> Deadline:
    """Compute a clock's due time and at-risk time from its start.

    At risk means less than 25% of the target left, or under 30 minutes, measured
    on the target's own clock (business time for business targets). A target of 30
    minutes or less is at risk from its start. Best-effort targets have no at-risk
    time: they are shown and ordered by, never escalated.
    """
    target = target_for(spec, calendar)
    due = calculations.due_at(start, target, calendar)
    if not spec.guaranteed:
        return Deadline(due, None)
    if target.kind == "elapsed":
        length = target.amount
        return Deadline(due, due - _at_risk_lead(length))
    if target.kind == "business":
        length = target.amount
    else:
        length = calculations.business_time_between(start, due, calendar)
    at_risk = calculations.add_business_time(
        start, length - _at_risk_lead(length), calendar
    )
    return Deadline(due, at_risk)


def _at_risk_lead(length: timedelta) -> timedelta:
    """Return how long before the due time a clock of this length is at risk."""
    return min(length, max(length * AT_RISK_FRACTION, AT_RISK_MINIMUM))


def parse_duration(text: str) -> tuple[int, str]:
    """Parse ``30m``, ``2h`` or ``1bd`` into (amount, unit); ``eod`` is accepted too.

    Raise ValueError with a message fit for a command line otherwise.
    """
    if text.strip().lower() == END_OF_BUSINESS_DAY:
        return 1, END_OF_BUSINESS_DAY
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration: write a whole number and a unit, "
            "m (minutes), h (hours) or bd (business days), e.g. 2h or 1bd"
        )
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise ValueError("a response target must be longer than zero")
    return amount, unit


def skipped_time(
    start: datetime, due: datetime, spec: TargetSpec, calendar: BusinessCalendar
) -> timedelta:
    """Return the real time between start and due that was not working time.

    This is the "why" of a business-hours due time: nights, weekends and closed
    dates that the clock stepped over. A 24x7 target skips nothing.
    """
    if not spec.uses_calendar or due <= start:
        return timedelta(0)
    return (due - start) - calculations.business_time_between(start, due, calendar)


def closed_dates_between(
    start: datetime, due: datetime, calendar: BusinessCalendar
) -> list[date]:
    """List the dates between start and due (calendar time) shut by a closure.

    Only dates that would otherwise have working hours are listed: a holiday on a
    Sunday skips nothing that the weekend did not already skip.
    """
    zone = calendar.zone
    first = start.astimezone(zone).date()
    last = due.astimezone(zone).date()
    found = []
    day = first
    while day <= last:
        if calendar.is_closed(day) and any(
            interval.weekday == day.weekday() for interval in calendar.intervals
        ):
            found.append(day)
        day += timedelta(days=1)
    return found
