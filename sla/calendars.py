"""Turn BusinessCalendar rows into ``calculations.BusinessCalendar`` values, cached.

Building a calendar reads its intervals and dates and makes a ``holidays`` object;
the computed calendar then caches each date's working spans. Rebuilding it per
clock is about 13 times slower than reusing it (benchmarks/sla_calc.py), so each
process keeps one per calendar, keyed by the row's ``version``: a changed calendar
carries a new version, so every process rebuilds on its next use without being
told. Reads only; the version is bumped by ``services.business_calendar_changed``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Container
from dataclasses import dataclass
from datetime import date, time

import holidays

from tickets.models import Organization

from . import calculations
from .models import BusinessCalendar, CalendarDate

logger = logging.getLogger(__name__)

_cache: dict[int, tuple[int, calculations.BusinessCalendar]] = {}
_lock = threading.Lock()
_FALLBACK = calculations.BusinessCalendar.default()


@dataclass(frozen=True)
class _Closures:
    """Public holidays of a country plus the calendar's own extra closed dates."""

    public: Container[date] | None
    extra: frozenset[date]

    def __contains__(self, day: object) -> bool:
        return day in self.extra or (self.public is not None and day in self.public)


def default_calendar() -> BusinessCalendar | None:
    """Return the calendar row used by organisations without their own."""
    return BusinessCalendar.objects.filter(is_default=True).first()


def calendar_rows_for(
    organizations: Collection[Organization],
) -> dict[int, BusinessCalendar | None]:
    """Each organisation's own calendar row, else the default one, by its id.

    A row already loaded with its organisation is reused; the others come in one
    query, and the default row in one more only if someone needs it.
    """
    field = Organization._meta.get_field("business_calendar")
    own = {
        organization.pk: organization.business_calendar
        for organization in organizations
        if field.is_cached(organization) or organization.business_calendar_id is None
    }
    wanted = {
        organization.pk: organization.business_calendar_id
        for organization in organizations
        if organization.pk not in own
    }
    if wanted:
        rows = BusinessCalendar.objects.in_bulk(set(wanted.values()))
        own.update({pk: rows.get(row_id) for pk, row_id in wanted.items()})
    if any(row is None for row in own.values()):
        default = default_calendar()
        own = {pk: row or default for pk, row in own.items()}
    return own


def business_calendar(row: BusinessCalendar | None) -> calculations.BusinessCalendar:
    """Return the computed calendar of a row (None: the contract's default hours).

    Cached per process by (id, version). A calendar whose rows cannot form a
    calendar (no working interval at all) falls back to the contract's default
    hours, logged, rather than making tickets impossible to open.
    """
    if row is None:
        return _FALLBACK
    cached = _cache.get(row.pk)
    if cached is not None and cached[0] == row.version:
        return cached[1]
    computed = _build(row)
    with _lock:
        _cache[row.pk] = (row.version, computed)
    return computed


def forget(calendar_id: int) -> None:
    """Drop a calendar from this process's cache (other processes see the version)."""
    with _lock:
        _cache.pop(calendar_id, None)


def _build(row: BusinessCalendar) -> calculations.BusinessCalendar:
    intervals = tuple(
        calculations.WorkingInterval(weekday, start, end)
        for weekday, start, end in row.intervals.values_list("weekday", "start", "end")
    )
    closed: set[date] = set()
    opened: set[date] = set()
    for day, kind in row.dates.values_list("date", "kind"):
        (opened if kind == CalendarDate.Kind.OPEN else closed).add(day)
    public = None
    if row.holiday_country:
        try:
            public = holidays.country_holidays(
                row.holiday_country, subdiv=row.holiday_subdivision or None
            )
        except NotImplementedError:
            logger.error(
                "calendar %s: unknown holiday country %s; holidays ignored",
                row.pk,
                row.holiday_country,
            )
    try:
        return calculations.BusinessCalendar(
            timezone=row.timezone,
            intervals=intervals,
            closed_dates=_Closures(public, frozenset(closed)),
            open_dates=frozenset(opened),
        )
    except ValueError:
        logger.exception("calendar %s is unusable; using the default hours", row.pk)
        return _FALLBACK


def describe_hours(calendar: calculations.BusinessCalendar) -> str:
    """Summarise the weekly hours, e.g. 'Mon-Fri 09:00-17:00 (America/New_York)'."""
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    by_day: dict[int, list[str]] = {}
    for interval in sorted(calendar.intervals, key=lambda i: (i.weekday, i.start)):
        end = "24:00" if interval.end == time(0) else f"{interval.end:%H:%M}"
        by_day.setdefault(interval.weekday, []).append(f"{interval.start:%H:%M}-{end}")
    groups: list[tuple[int, int, str]] = []
    for weekday in sorted(by_day):
        hours = ", ".join(by_day[weekday])
        if groups and groups[-1][1] == weekday - 1 and groups[-1][2] == hours:
            groups[-1] = (groups[-1][0], weekday, hours)
        else:
            groups.append((weekday, weekday, hours))
    parts = [
        f"{names[first]}{'-' + names[last] if last != first else ''} {hours}"
        for first, last, hours in groups
    ]
    return f"{'; '.join(parts)} ({calendar.timezone})"
