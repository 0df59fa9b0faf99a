"""Pure calendar arithmetic for the maintenance schedule (no database).

A schedule is a set of weekdays and a wall-clock start time in an IANA timezone; its
occurrences are computed day by day in that timezone and converted to UTC, so
"07:00 Europe/London" is 07:00 UTC in winter and 06:00 UTC in summer.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def occurrence_start(day: date, start_time: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``start_time`` on local ``day``.

    An ambiguous local time (the hour repeated when clocks go back) is its first
    occurrence (``fold=0``); a time that does not exist (skipped when clocks go
    forward) is read with the offset before the change, which lands it the length
    of the gap later, as a wall clock would show it.
    """
    local = datetime.combine(day, start_time).replace(tzinfo=tz, fold=0)
    return local.astimezone(UTC)


def occurrences(
    *,
    weekdays: Collection[int],
    start_time: time,
    timezone: str,
    after: datetime,
    until: datetime,
) -> list[datetime]:
    """Every occurrence with ``after < start <= until``, in UTC, in order."""
    tz = ZoneInfo(timezone)
    # One local day of margin either side: the UTC bounds may fall on another date.
    day = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date() + timedelta(days=1)
    found = []
    while day <= last:
        if day.weekday() in weekdays:
            start = occurrence_start(day, start_time, tz)
            if after < start <= until:
                found.append(start)
        day += timedelta(days=1)
    return found


@dataclass(frozen=True)
class Plan:
    """What to do to the schedule's future windows to match the schedule."""

    moves: list[tuple[int, datetime]]  # (window id, new slot)
    removals: list[int]
    creations: list[datetime]


def reconcile(
    *,
    desired: list[datetime],
    free: list[tuple[int, datetime]],
    held: list[datetime],
    day_of: Callable[[datetime], date],
) -> Plan:
    """Match the schedule's occurrences against the windows that exist.

    ``free`` are the future windows nobody edited by hand, as (id, slot); ``held``
    the slots of every other window (edited, cancelled, started, announced): those
    never change, and their day keeps them as that day's maintenance, so an
    occurrence on a held day is not created again at a new time. A free window on
    a slot the schedule no longer has moves to a missing slot, earliest to
    earliest, keeping its identity (and iCalendar UID); what is left over is
    removed or created.
    """
    held_days = {day_of(slot) for slot in held}
    wanted = [slot for slot in desired if day_of(slot) not in held_days]
    wanted_set = set(wanted)
    free_slots = {slot for _pk, slot in free}
    stale = sorted((slot, pk) for pk, slot in free if slot not in wanted_set)
    missing = sorted(slot for slot in wanted_set if slot not in free_slots)
    moves = [(pk, slot) for (_old, pk), slot in zip(stale, missing, strict=False)]
    removals = [pk for _slot, pk in stale[len(missing) :]]
    creations = missing[len(stale) :]
    return Plan(moves=moves, removals=removals, creations=creations)
