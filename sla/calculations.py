"""Business-time arithmetic for SLA targets.

Keep this module free of Django (and of anything outside the standard library) so
that the rules that decide when a ticket breaches can be tested, benchmarked and
reasoned about without a database or settings.

Conventions used throughout:

* Every datetime is aware. Inputs may carry any timezone; computations run on UTC
  instants and every result is a UTC-aware datetime. Naive datetimes are rejected
  with ``ValueError`` because guessing their timezone is how SLA clocks go wrong.
* Working hours are wall-clock times in the calendar's IANA timezone. Each working
  interval of a given date lasts the *real* time between its wall-clock start and
  end on that date, so a 01:00-04:00 interval on a spring-forward night in
  America/New_York lasts 2 hours and 4 hours on the fall-back night.
* Wall-clock times that do not exist (inside a spring-forward gap) or exist twice
  (inside a fall-back overlap) are resolved with zoneinfo's ``fold=0`` semantics,
  always: a nonexistent time is read with the offset in force *before* the gap
  (02:30 on a New York spring-forward night is 03:30 EDT), an ambiguous time is its
  *first* occurrence. An interval that resolves to zero or negative real length is
  dropped; intervals of one date that overlap in real time are merged, so no
  instant is ever counted twice.
* Intervals are half-open: a calendar open 09:00-17:00 is open at 09:00 and closed
  at 17:00.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_CLOSED_DAYS",
    "BusinessCalendar",
    "Target",
    "TargetKind",
    "WorkingInterval",
    "add_business_time",
    "business_time_between",
    "due_at",
    "end_of_business_day",
]

MAX_CLOSED_DAYS = 3660
"""Give up after this many consecutive dates without working time (about 10 years).

A calendar whose closures swallow every date would otherwise loop forever.
"""

TargetKind = Literal["elapsed", "business", "end_of_business_day"]

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_DAY_US = 86_400_000_000
_MIDNIGHT = time(0)
_TARGET_KINDS: frozenset[str] = frozenset(
    ("elapsed", "business", "end_of_business_day")
)
_DAY_CACHE_LIMIT = 16_384

# A stretch of working time as UTC instants: [start, end).
_Span = tuple[datetime, datetime]
# A working interval of one weekday as wall-clock times; the flag is True when the
# interval runs until midnight at the end of the day (written as end=time(0)).
_WallInterval = tuple[time, time, bool]


@dataclass(frozen=True, slots=True)
class WorkingInterval:
    """One stretch of working hours on one weekday, in wall-clock time.

    Give several intervals for the same weekday to describe split shifts (e.g. a
    lunch break). Write ``end=time(0)`` to mean midnight at the *end* of the day
    (24:00), the only way a ``time`` can express an interval that closes at
    midnight.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        """Reject intervals that cannot mean anything, at definition time."""
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise TypeError(f"weekday must be an int, got {self.weekday!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6, got {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(
                "working interval times are wall-clock times of the calendar's "
                "timezone and must not carry a tzinfo"
            )
        if not (self.start < self.end or self.end == _MIDNIGHT):
            raise ValueError(
                f"working interval must start before it ends, got "
                f"{self.start.isoformat()}-{self.end.isoformat()}"
            )

    @property
    def ends_at_midnight(self) -> bool:
        """Tell whether the interval runs to the end of its day (24:00)."""
        return self.end == _MIDNIGHT

    @property
    def nominal_length(self) -> timedelta:
        """Measure the interval on the wall clock, ignoring any DST transition."""
        end = _DAY_US if self.ends_at_midnight else _time_offset(self.end)
        return timedelta(microseconds=end - _time_offset(self.start))


@dataclass(frozen=True)
class BusinessCalendar:
    """When support works: a timezone, weekly working hours and dated exceptions.

    ``closed_dates`` is any ``Container[date]`` (a set, or a ``holidays`` object such
    as ``holidays.country_holidays("US")``); ``open_dates`` are dates that the
    closures would shut but that are worked anyway, and they win over
    ``closed_dates``. An open date only restores that weekday's usual hours: it does
    not add working time to a weekday without any.

    The calendar caches each date's working time as UTC instants, so build one
    calendar per policy and reuse it; the cache lives on the instance because
    ``holidays`` objects are mutable and unhashable. Do not mutate ``closed_dates``
    after the calendar has been used. The calendar is hashable only when
    ``closed_dates`` is.
    """

    timezone: str
    intervals: tuple[WorkingInterval, ...]
    closed_dates: Container[date] = frozenset()
    open_dates: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _weekly: tuple[tuple[_WallInterval, ...], ...] = field(
        init=False, repr=False, compare=False
    )
    _day_length: timedelta = field(init=False, repr=False, compare=False)
    _day_cache: dict[int, tuple[_Span, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Validate once and precompute what every computation would otherwise redo."""
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        intervals = tuple(self.intervals)
        for interval in intervals:
            if not isinstance(interval, WorkingInterval):
                raise TypeError(f"expected WorkingInterval, got {interval!r}")
        if not intervals:
            raise ValueError(
                "a business calendar needs at least one working interval: "
                "a calendar without working time can never reach a target"
            )
        by_weekday: list[list[WorkingInterval]] = [[] for _ in range(7)]
        for interval in intervals:
            by_weekday[interval.weekday].append(interval)
        weekly = tuple(_merge_wall_intervals(day) for day in by_weekday)
        set_attr = object.__setattr__
        set_attr(self, "intervals", intervals)
        set_attr(self, "open_dates", frozenset(self.open_dates))
        set_attr(self, "_zone", zone)
        set_attr(self, "_weekly", weekly)
        set_attr(self, "_day_length", _typical_day_length(weekly))
        set_attr(self, "_day_cache", {})

    @classmethod
    def default(cls) -> BusinessCalendar:
        """Return the contract's fallback: Mon-Fri 09:00-17:00 UTC, no holidays."""
        return cls(
            timezone="UTC",
            intervals=tuple(
                WorkingInterval(weekday, time(9), time(17)) for weekday in range(5)
            ),
        )

    @property
    def zone(self) -> ZoneInfo:
        """Expose the resolved timezone so callers need not build another ZoneInfo."""
        return self._zone

    @property
    def business_day_length(self) -> timedelta:
        """Return how much business time one "business day" target is worth.

        Define it as the typical working day: total weekly working time divided by
        the number of weekdays that have any working time, measured on the wall
        clock (DST transitions and holidays do not change it). Monday-Friday
        09:00-17:00 gives 8h; a 09:00-12:00 + 13:00-17:00 split shift gives 7h;
        adding Saturday 10:00-14:00 to 09:00-17:00 weekdays gives 44h / 6 = 7h20m.
        A fixed length keeps "N business days" a plain business-time duration, so
        it composes with every other rule here (the result is rounded to the
        microsecond).
        """
        return self._day_length

    def is_closed(self, day: date) -> bool:
        """Tell whether a date is shut by ``closed_dates`` and not reopened."""
        return day not in self.open_dates and day in self.closed_dates

    def working_spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Return the date's working time as sorted, disjoint UTC ``[start, end)``.

        Expose this for display and debugging ("open today 13:00-21:00 UTC"); the
        arithmetic functions use the same cached spans.
        """
        return self._day_spans(day.toordinal())

    def _day_spans(self, ordinal: int) -> tuple[_Span, ...]:
        """Return cached UTC spans for a proleptic ordinal: the hot path's lookup."""
        spans = self._day_cache.get(ordinal)
        if spans is None:
            spans = self._compute_day_spans(ordinal)
            cache = self._day_cache
            if len(cache) >= _DAY_CACHE_LIMIT:
                cache.clear()
            cache[ordinal] = spans
        return spans

    def _compute_day_spans(self, ordinal: int) -> tuple[_Span, ...]:
        """Resolve one date's wall-clock intervals to real UTC time (fold=0)."""
        day = date.fromordinal(ordinal)
        wall = self._weekly[day.weekday()]
        if not wall or self.is_closed(day):
            return ()
        zone = self._zone
        next_day = day + _DAY
        resolved = sorted(
            (
                datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
                datetime.combine(
                    next_day if to_midnight else day, end, tzinfo=zone
                ).astimezone(UTC),
            )
            for start, end, to_midnight in wall
        )
        merged: list[_Span] = []
        for start_utc, end_utc in resolved:
            if end_utc <= start_utc:
                continue  # swallowed by a spring-forward gap
            if merged and start_utc <= merged[-1][1]:
                if end_utc > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end_utc)
            else:
                merged.append((start_utc, end_utc))
        return tuple(merged)


@dataclass(frozen=True, slots=True)
class Target:
    """How long support has to respond, independent of any particular ticket.

    ``elapsed`` runs on a 24x7 clock (real time), ``business`` counts only working
    time of the calendar, and ``end_of_business_day`` is the best-effort target
    (see :func:`end_of_business_day`). "N business days" is resolved when the
    target is built, into N times the calendar's ``business_day_length`` of
    business time, so a ``Target`` is always a plain value and ``due_at`` has
    only three cases.
    """

    kind: TargetKind
    amount: timedelta = _ZERO

    def __post_init__(self) -> None:
        """Refuse targets that could produce a due date before the ticket arrived."""
        if self.kind not in _TARGET_KINDS:
            raise ValueError(f"unknown target kind {self.kind!r}")
        if not isinstance(self.amount, timedelta):
            raise TypeError(f"amount must be a timedelta, got {self.amount!r}")
        if self.amount < _ZERO:
            raise ValueError(f"target amount must not be negative, got {self.amount}")
        if self.kind == "end_of_business_day" and self.amount:
            raise ValueError("an end_of_business_day target takes no amount")

    @classmethod
    def elapsed(cls, amount: timedelta) -> Target:
        """Build a 24x7 target: the clock runs nights, weekends and holidays."""
        return cls("elapsed", amount)

    @classmethod
    def business(cls, amount: timedelta) -> Target:
        """Build a target that only consumes the calendar's working time."""
        return cls("business", amount)

    @classmethod
    def business_days(cls, days: int, calendar: BusinessCalendar) -> Target:
        """Build "N business days" as N typical working days of ``calendar``.

        Resolve it against the calendar now so that the policy's calendar decides
        what a day is worth; pass the same calendar to :func:`due_at`.
        """
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"business days must be an int, got {days!r}")
        if days < 0:
            raise ValueError(f"business days must not be negative, got {days}")
        return cls("business", calendar.business_day_length * days)

    @classmethod
    def end_of_business_day(cls) -> Target:
        """Build the best-effort target: by the end of the (next) business day."""
        return cls("end_of_business_day")


def add_business_time(
    start: datetime, amount: timedelta, calendar: BusinessCalendar
) -> datetime:
    """Return the first instant at which ``amount`` of working time has elapsed.

    Walk whole working spans rather than minutes so the cost grows with the number
    of dates spanned only. A target that is used up exactly at the end of a span
    returns that end (17:00), not the next opening: the ticket was due while the
    team was still at work. A zero amount returns ``start`` itself (as UTC), even
    outside working hours, because no working time has to pass for it.
    """
    start_utc = _as_utc(start, "start")
    if amount < _ZERO:
        raise ValueError(f"amount must not be negative, got {amount}")
    if not amount:
        return start_utc
    remaining = amount
    for _ordinal, span_start, span_end in _working_spans_from(calendar, start_utc):
        available = span_end - span_start
        if remaining <= available:
            return span_start + remaining
        remaining -= available
    raise _no_working_time(start_utc)


def business_time_between(
    start: datetime, end: datetime, calendar: BusinessCalendar
) -> timedelta:
    """Return how much working time lies in ``[start, end)``; zero if end <= start.

    Use it to report time spent against a business-hours target; it is the exact
    inverse of :func:`add_business_time`, to the microsecond.
    """
    start_utc = _as_utc(start, "start")
    end_utc = _as_utc(end, "end")
    if end_utc <= start_utc:
        return _ZERO
    last_ordinal = end_utc.astimezone(calendar._zone).toordinal() + 1
    total = _ZERO
    for _ordinal, span_start, span_end in _working_spans_from(
        calendar, start_utc, last_ordinal
    ):
        if span_start >= end_utc:
            break
        total += (span_end if span_end < end_utc else end_utc) - span_start
    return total


def end_of_business_day(at: datetime, calendar: BusinessCalendar) -> datetime:
    """Return the end of the business day on which work on a ticket can happen.

    The end of a business day is the end of that date's last working interval.
    During working hours (including a split shift's later interval) that is the
    current date's end; outside working hours (before opening, during a lunch
    break, after closing, on a weekend or a closed date) it is the end of the
    business day containing the next opening, so a ticket that arrives at 07:00 is
    due at 17:00 the same day and one that arrives at 17:00 sharp (closed, since
    intervals are half-open) is due at 17:00 the next business day.
    """
    at_utc = _as_utc(at, "at")
    for ordinal, _span_start, _span_end in _working_spans_from(calendar, at_utc):
        return calendar._day_spans(ordinal)[-1][1]
    raise _no_working_time(at_utc)


def due_at(start: datetime, target: Target, calendar: BusinessCalendar) -> datetime:
    """Return when a ticket that started its clock at ``start`` is due (in UTC).

    Be the single entry point for the SLA services so that every target kind is
    computed under the same rules. Elapsed targets add real time in UTC, so 12h
    across a DST change is 12 real hours, never 11 or 13 wall-clock hours.
    """
    kind = target.kind
    if kind == "business":
        return add_business_time(start, target.amount, calendar)
    if kind == "elapsed":
        return _as_utc(start, "start") + target.amount
    return end_of_business_day(start, calendar)


def _working_spans_from(
    calendar: BusinessCalendar, start_utc: datetime, last_ordinal: int | None = None
) -> Iterator[tuple[int, datetime, datetime]]:
    """Yield (date ordinal, start, end) of working time at or after ``start_utc``.

    Begin one date early: with fold=0 resolution an interval of the previous local
    date can, in exotic zones, reach past midnight. A cursor clips every span to
    start where the previous one ended, so overlapping spans are never counted
    twice. Stop after ``last_ordinal``, or (when unbounded) after
    ``MAX_CLOSED_DAYS`` consecutive dates without working time.
    """
    ordinal = start_utc.astimezone(calendar._zone).toordinal() - 1
    cursor = start_utc
    closed_streak = 0
    day_spans = calendar._day_spans
    while last_ordinal is None or ordinal <= last_ordinal:
        spans = day_spans(ordinal)
        if spans:
            closed_streak = 0
            for span_start, span_end in spans:
                if span_end <= cursor:
                    continue
                yield ordinal, (span_start if span_start > cursor else cursor), span_end
                cursor = span_end
        elif last_ordinal is None:
            closed_streak += 1
            if closed_streak > MAX_CLOSED_DAYS:
                return
        ordinal += 1


def _no_working_time(after: datetime) -> ValueError:
    """Explain why a target can never be reached instead of looping forever."""
    return ValueError(
        f"no working time in {MAX_CLOSED_DAYS} consecutive days after "
        f"{after.isoformat()}: the calendar's closures cover every working day"
    )


def _as_utc(value: datetime, name: str) -> datetime:
    """Convert to UTC, refusing naive datetimes whose instant would be a guess."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


def _time_offset(value: time) -> int:
    """Measure a wall-clock time from midnight, in microseconds (exact and cheap)."""
    seconds = (value.hour * 60 + value.minute) * 60 + value.second
    return seconds * 1_000_000 + value.microsecond


def _offset_time(offset: int) -> time:
    """Turn microseconds from midnight (< 24h) back into a wall-clock time."""
    seconds, microseconds = divmod(offset, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return time(hour, minute, second, microseconds)


def _merge_wall_intervals(
    intervals: Iterable[WorkingInterval],
) -> tuple[_WallInterval, ...]:
    """Merge one weekday's overlapping or touching intervals, normalised to fold=0.

    Merging on the wall clock keeps ``business_day_length`` from counting an
    overlap twice; the UTC merge per date still handles DST-induced overlaps.
    """
    ranges = sorted(
        (_time_offset(i.start), _DAY_US if i.ends_at_midnight else _time_offset(i.end))
        for i in intervals
    )
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(
        (
            _offset_time(start),
            _MIDNIGHT if end == _DAY_US else _offset_time(end),
            end == _DAY_US,
        )
        for start, end in merged
    )


def _typical_day_length(weekly: tuple[tuple[_WallInterval, ...], ...]) -> timedelta:
    """Average the wall-clock working time over the weekdays that have any."""
    lengths = [
        sum(
            (_DAY_US if to_midnight else _time_offset(end)) - _time_offset(start)
            for start, end, to_midnight in day
        )
        for day in weekly
        if day
    ]
    return timedelta(microseconds=sum(lengths)) / len(lengths)
