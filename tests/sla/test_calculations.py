"""Business-time arithmetic behind SLA due dates (pure Python, no Django needed)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calculations import (
    MAX_CLOSED_DAYS,
    BusinessCalendar,
    Target,
    WorkingInterval,
    add_business_time,
    business_time_between,
    due_at,
    end_of_business_day,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # DST shifts by 30 minutes

US_HOLIDAYS = holidays.country_holidays("US")
DE_HOLIDAYS = holidays.country_holidays("DE")
JULY_3_2026 = date(2026, 7, 3)  # Independence Day (observed): July 4th is a Saturday


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def weekdays(
    start: time, end: time, days: range = range(5)
) -> tuple[WorkingInterval, ...]:
    return tuple(WorkingInterval(day, start, end) for day in days)


def ny(*parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK, fold=fold)


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


NINE_TO_FIVE = weekdays(time(9), time(17))
SPLIT_SHIFT = weekdays(time(9), time(12)) + weekdays(time(13), time(17))
# Sunday 01:00-04:00 straddles the 02:00 DST switch of both New York and Berlin.
SUNDAY_NIGHT = (WorkingInterval(6, time(1), time(4)),)

DEFAULT = BusinessCalendar.default()
NY = BusinessCalendar("America/New_York", NINE_TO_FIVE, US_HOLIDAYS)
NY_SPLIT = BusinessCalendar("America/New_York", SPLIT_SHIFT, US_HOLIDAYS)
NY_NIGHT = BusinessCalendar("America/New_York", NINE_TO_FIVE + SUNDAY_NIGHT)
NY_WORKS_JULY_3 = BusinessCalendar(
    "America/New_York", NINE_TO_FIVE, US_HOLIDAYS, frozenset({JULY_3_2026})
)
DE = BusinessCalendar("Europe/Berlin", NINE_TO_FIVE, DE_HOLIDAYS)
DE_NIGHT = BusinessCalendar("Europe/Berlin", NINE_TO_FIVE + SUNDAY_NIGHT)


class AlwaysClosed:
    """A closure container that shuts every date, as a runaway holiday feed would."""

    def __contains__(self, item: object) -> bool:
        return True


# --------------------------------------------------------------------------- due_at


DUE_AT_CASES = [
    pytest.param(
        NY,
        ny(2026, 6, 9, 19, 30),
        Target.business(hours(4)),
        ny(2026, 6, 10, 13),
        id="after-hours-arrival-starts-next-morning",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 9, 7),
        Target.business(hours(4)),
        ny(2026, 6, 9, 13),
        id="before-hours-arrival-starts-at-opening",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 12, 18),
        Target.business(hours(4)),
        ny(2026, 6, 15, 13),
        id="friday-evening-arrival-runs-monday",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 13, 11),
        Target.business(hours(1)),
        ny(2026, 6, 15, 10),
        id="weekend-arrival-runs-monday",
    ),
    pytest.param(
        NY,
        ny(2026, 11, 26, 10),
        Target.business(hours(4)),
        ny(2026, 11, 27, 13),
        id="thanksgiving-arrival-runs-next-day",
    ),
    pytest.param(
        NY,
        ny(2026, 7, 3, 14),
        Target.business_days(2, NY),
        ny(2026, 7, 7, 17),
        id="two-business-days-across-july-4th-weekend",
    ),
    pytest.param(
        NY,
        ny(2026, 7, 2, 15),
        Target.business(hours(8)),
        ny(2026, 7, 6, 15),
        id="business-hours-skip-observed-holiday-and-weekend",
    ),
    pytest.param(
        NY_WORKS_JULY_3,
        ny(2026, 7, 3, 14),
        Target.business_days(2, NY),
        ny(2026, 7, 7, 14),
        id="open-date-overrides-holiday",
    ),
    pytest.param(
        NY_SPLIT,
        ny(2026, 6, 8, 11),
        Target.business(hours(2)),
        ny(2026, 6, 8, 14),
        id="split-shift-skips-lunch-break",
    ),
    pytest.param(
        NY_SPLIT,
        ny(2026, 6, 8, 12, 30),
        Target.business(hours(1)),
        ny(2026, 6, 8, 14),
        id="split-shift-arrival-during-lunch-starts-after-lunch",
    ),
    pytest.param(
        NY_SPLIT,
        ny(2026, 6, 8, 9),
        Target.business_days(1, NY_SPLIT),
        ny(2026, 6, 8, 17),
        id="split-shift-business-day-is-seven-hours",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 8, 9),
        Target.business(hours(8)),
        ny(2026, 6, 8, 17),
        id="target-ending-at-closing-is-due-at-closing-not-next-morning",
    ),
    pytest.param(
        NY_SPLIT,
        ny(2026, 6, 8, 9),
        Target.business(hours(3)),
        ny(2026, 6, 8, 12),
        id="target-ending-at-lunch-is-due-at-lunch",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 8, 17),
        Target.business(hours(1)),
        ny(2026, 6, 9, 10),
        id="arrival-exactly-at-closing-starts-next-morning",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 8, 17),
        Target.business(timedelta(0)),
        ny(2026, 6, 8, 17),
        id="zero-target-at-closing-is-due-immediately",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 13, 11),
        Target.business(timedelta(0)),
        ny(2026, 6, 13, 11),
        id="zero-target-on-weekend-is-due-immediately",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 8, 10),
        Target.business_days(1, NY),
        ny(2026, 6, 9, 10),
        id="one-business-day",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 8, 10),
        Target.business_days(2, NY),
        ny(2026, 6, 10, 10),
        id="two-business-days",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 11, 10),
        Target.business_days(2, NY),
        ny(2026, 6, 15, 10),
        id="two-business-days-from-thursday-skip-weekend",
    ),
    pytest.param(
        DEFAULT,
        utc(2026, 6, 8, 16),
        Target.business(hours(2)),
        utc(2026, 6, 9, 10),
        id="default-calendar-is-utc-nine-to-five",
    ),
    pytest.param(
        NY,
        datetime(2026, 6, 9, 23, tzinfo=TOKYO),
        Target.business(hours(1)),
        ny(2026, 6, 9, 11),
        id="start-in-another-timezone-is-the-same-instant",
    ),
    # Business calendars keep local wall-clock hours across DST changes.
    pytest.param(
        NY,
        ny(2026, 3, 6, 15),
        Target.business(hours(4)),
        utc(2026, 3, 9, 15),
        id="new-york-spring-forward-weekend-business-hours",
    ),
    pytest.param(
        NY,
        ny(2026, 10, 30, 15),
        Target.business(hours(4)),
        utc(2026, 11, 2, 16),
        id="new-york-fall-back-weekend-business-hours",
    ),
    pytest.param(
        DE,
        berlin(2026, 3, 27, 15),
        Target.business(hours(4)),
        utc(2026, 3, 30, 9),
        id="berlin-spring-forward-weekend-business-hours",
    ),
    pytest.param(
        DE,
        berlin(2026, 10, 23, 15),
        Target.business(hours(4)),
        utc(2026, 10, 26, 10),
        id="berlin-fall-back-weekend-business-hours",
    ),
    # An interval spanning the switch lasts its real length: 2h or 4h, not 3h.
    pytest.param(
        NY_NIGHT,
        ny(2026, 3, 8, 1),
        Target.business(hours(2)),
        utc(2026, 3, 8, 8),
        id="new-york-spring-forward-night-shift-lasts-two-hours",
    ),
    pytest.param(
        NY_NIGHT,
        ny(2026, 3, 8, 1),
        Target.business(hours(3)),
        ny(2026, 3, 9, 10),
        id="new-york-spring-forward-night-shift-has-no-third-hour",
    ),
    pytest.param(
        NY_NIGHT,
        ny(2026, 11, 1, 1),
        Target.business(hours(4)),
        utc(2026, 11, 1, 9),
        id="new-york-fall-back-night-shift-lasts-four-hours",
    ),
    pytest.param(
        NY_NIGHT,
        ny(2026, 11, 1, 1, 30, fold=1),
        Target.business(hours(1)),
        utc(2026, 11, 1, 7, 30),
        id="new-york-ambiguous-start-honours-its-fold",
    ),
    pytest.param(
        DE_NIGHT,
        berlin(2026, 3, 29, 1),
        Target.business(hours(2)),
        utc(2026, 3, 29, 2),
        id="berlin-spring-forward-night-shift-lasts-two-hours",
    ),
    pytest.param(
        DE_NIGHT,
        berlin(2026, 10, 25, 1),
        Target.business(hours(4)),
        utc(2026, 10, 25, 3),
        id="berlin-fall-back-night-shift-lasts-four-hours",
    ),
    # Elapsed (24x7) targets are real time: 12h is 12h even across a DST switch.
    pytest.param(
        NY,
        ny(2026, 3, 7, 20),
        Target.elapsed(hours(12)),
        utc(2026, 3, 8, 13),
        id="new-york-spring-forward-elapsed-12h-is-12-real-hours",
    ),
    pytest.param(
        NY,
        ny(2026, 10, 31, 20),
        Target.elapsed(hours(12)),
        utc(2026, 11, 1, 12),
        id="new-york-fall-back-elapsed-12h-is-12-real-hours",
    ),
    pytest.param(
        DE,
        berlin(2026, 3, 28, 20),
        Target.elapsed(hours(12)),
        utc(2026, 3, 29, 7),
        id="berlin-spring-forward-elapsed-12h-is-12-real-hours",
    ),
    pytest.param(
        DE,
        berlin(2026, 10, 24, 20),
        Target.elapsed(hours(12)),
        utc(2026, 10, 25, 6),
        id="berlin-fall-back-elapsed-12h-is-12-real-hours",
    ),
    pytest.param(
        NY,
        ny(2026, 7, 3, 14),
        Target.elapsed(hours(4)),
        ny(2026, 7, 3, 18),
        id="elapsed-target-ignores-holidays-and-hours",
    ),
    pytest.param(
        NY,
        ny(2026, 6, 13, 11),
        Target.end_of_business_day(),
        ny(2026, 6, 15, 17),
        id="end-of-business-day-target-on-weekend",
    ),
]


@pytest.mark.parametrize(("calendar", "start", "target", "expected"), DUE_AT_CASES)
def test_due_at_follows_the_contract(
    calendar: BusinessCalendar, start: datetime, target: Target, expected: datetime
) -> None:
    due = due_at(start, target, calendar)

    assert due == expected
    assert due.tzinfo is UTC


# --------------------------------------------------------- business_time_between


BETWEEN_CASES = [
    pytest.param(
        NY, ny(2026, 6, 8, 10), ny(2026, 6, 8, 12), hours(2), id="within-one-interval"
    ),
    pytest.param(NY, ny(2026, 6, 8, 16), ny(2026, 6, 9, 10), hours(2), id="overnight"),
    pytest.param(
        NY,
        ny(2026, 7, 2, 15),
        ny(2026, 7, 6, 15),
        hours(8),
        id="across-holiday-weekend",
    ),
    pytest.param(
        NY_SPLIT,
        ny(2026, 6, 8, 11),
        ny(2026, 6, 8, 14),
        hours(2),
        id="lunch-break-not-counted",
    ),
    pytest.param(
        DEFAULT, utc(2026, 6, 8), utc(2026, 6, 15), hours(40), id="a-full-week"
    ),
    pytest.param(
        NY, ny(2026, 6, 8, 12), ny(2026, 6, 8, 12), timedelta(0), id="empty-range"
    ),
    pytest.param(
        NY, ny(2026, 6, 9, 12), ny(2026, 6, 8, 12), timedelta(0), id="reversed-range"
    ),
    pytest.param(
        NY_NIGHT,
        ny(2026, 3, 8),
        ny(2026, 3, 8, 12),
        hours(2),
        id="new-york-spring-forward-night-shift",
    ),
    pytest.param(
        NY_NIGHT,
        ny(2026, 11, 1),
        ny(2026, 11, 1, 12),
        hours(4),
        id="new-york-fall-back-night-shift",
    ),
    pytest.param(
        DE_NIGHT,
        berlin(2026, 3, 29),
        berlin(2026, 3, 29, 12),
        hours(2),
        id="berlin-spring-forward-night-shift",
    ),
    pytest.param(
        DE_NIGHT,
        berlin(2026, 10, 25),
        berlin(2026, 10, 25, 12),
        hours(4),
        id="berlin-fall-back-night-shift",
    ),
    pytest.param(
        NY_NIGHT,
        ny(2026, 6, 7),
        ny(2026, 6, 7, 12),
        hours(3),
        id="ordinary-night-shift",
    ),
]


@pytest.mark.parametrize(("calendar", "start", "end", "expected"), BETWEEN_CASES)
def test_business_time_between_counts_only_working_time(
    calendar: BusinessCalendar, start: datetime, end: datetime, expected: timedelta
) -> None:
    assert business_time_between(start, end, calendar) == expected


# ----------------------------------------------------------- end_of_business_day


END_OF_DAY_CASES = [
    pytest.param(NY, ny(2026, 6, 9, 10), ny(2026, 6, 9, 17), id="inside-hours"),
    pytest.param(NY, ny(2026, 6, 9, 9), ny(2026, 6, 9, 17), id="at-opening"),
    pytest.param(NY, ny(2026, 6, 9, 7), ny(2026, 6, 9, 17), id="before-hours"),
    pytest.param(NY, ny(2026, 6, 9, 18), ny(2026, 6, 10, 17), id="after-hours"),
    pytest.param(NY, ny(2026, 6, 9, 17), ny(2026, 6, 10, 17), id="at-closing"),
    pytest.param(NY, ny(2026, 6, 12, 20), ny(2026, 6, 15, 17), id="friday-evening"),
    pytest.param(NY, ny(2026, 6, 13, 11), ny(2026, 6, 15, 17), id="on-weekend"),
    pytest.param(NY, ny(2026, 7, 3, 10), ny(2026, 7, 6, 17), id="on-holiday"),
    pytest.param(
        NY_WORKS_JULY_3,
        ny(2026, 7, 3, 10),
        ny(2026, 7, 3, 17),
        id="on-holiday-worked-anyway",
    ),
    pytest.param(
        NY_SPLIT,
        ny(2026, 6, 9, 12, 30),
        ny(2026, 6, 9, 17),
        id="during-lunch-break",
    ),
    pytest.param(
        NY_SPLIT,
        ny(2026, 6, 9, 10),
        ny(2026, 6, 9, 17),
        id="morning-shift-ends-with-the-last-interval",
    ),
    pytest.param(
        NY, ny(2026, 3, 9, 10), utc(2026, 3, 9, 21), id="after-spring-forward"
    ),
    pytest.param(
        DE, berlin(2026, 10, 26, 10), utc(2026, 10, 26, 16), id="after-fall-back"
    ),
]


@pytest.mark.parametrize(("calendar", "at", "expected"), END_OF_DAY_CASES)
def test_end_of_business_day_is_the_end_of_the_last_interval(
    calendar: BusinessCalendar, at: datetime, expected: datetime
) -> None:
    result = end_of_business_day(at, calendar)

    assert result == expected
    assert result.tzinfo is UTC
    assert due_at(at, Target.end_of_business_day(), calendar) == expected


# -------------------------------------------------------------- calendar rules


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        pytest.param(NINE_TO_FIVE, hours(8), id="nine-to-five"),
        pytest.param(SPLIT_SHIFT, hours(7), id="split-shift"),
        pytest.param(
            (*NINE_TO_FIVE, WorkingInterval(5, time(10), time(14))),
            timedelta(hours=7, minutes=20),
            id="short-saturday-averages-over-six-days",
        ),
        pytest.param(
            weekdays(time(9), time(13)) + weekdays(time(12), time(17)),
            hours(8),
            id="overlapping-intervals-count-once",
        ),
        pytest.param(
            weekdays(time(0), time(0), range(7)), hours(24), id="round-the-clock"
        ),
        pytest.param(
            NINE_TO_FIVE + SUNDAY_NIGHT,
            timedelta(hours=7, minutes=10),
            id="night-shift-uses-wall-clock-length",
        ),
    ],
)
def test_business_day_length_is_weekly_time_over_working_weekdays(
    intervals: tuple[WorkingInterval, ...], expected: timedelta
) -> None:
    assert BusinessCalendar("UTC", intervals).business_day_length == expected


def test_default_calendar_is_monday_to_friday_nine_to_five_utc() -> None:
    assert DEFAULT.timezone == "UTC"
    assert DEFAULT.intervals == NINE_TO_FIVE
    assert DEFAULT.business_day_length == hours(8)
    assert DEFAULT.working_spans(date(2026, 6, 13)) == ()


def test_round_the_clock_calendar_counts_every_hour() -> None:
    calendar = BusinessCalendar("Europe/Berlin", weekdays(time(0), time(0), range(7)))
    start = berlin(2026, 3, 28, 12)

    due = due_at(start, Target.business(hours(24)), calendar)

    assert due == start.astimezone(UTC) + hours(24)
    assert business_time_between(start, berlin(2026, 3, 29, 12), calendar) == hours(23)


def test_interval_inside_spring_forward_gap_has_no_working_time() -> None:
    calendar = BusinessCalendar(
        "America/New_York", (WorkingInterval(6, time(2), time(3)),)
    )

    assert calendar.working_spans(date(2026, 3, 8)) == ()
    assert calendar.working_spans(date(2026, 3, 15)) == (
        (utc(2026, 3, 15, 6), utc(2026, 3, 15, 7)),
    )


def test_interval_times_with_fold_one_are_read_with_fold_zero() -> None:
    calendar = BusinessCalendar(
        "America/New_York", (WorkingInterval(6, time(1, fold=1), time(4)),)
    )

    assert calendar.working_spans(date(2026, 11, 1)) == (
        (utc(2026, 11, 1, 5), utc(2026, 11, 1, 9)),
    )


def test_calendars_with_same_rules_are_equal_and_hashable_with_frozen_closures() -> (
    None
):
    closures = frozenset({date(2026, 12, 24)})
    first = BusinessCalendar("UTC", NINE_TO_FIVE, closures)
    second = BusinessCalendar("UTC", NINE_TO_FIVE, closures)
    first.working_spans(date(2026, 12, 24))  # warm one cache only

    assert first == second
    assert hash(first) == hash(second)
    assert first.is_closed(date(2026, 12, 24))


def test_a_month_long_closure_is_skipped() -> None:
    december = frozenset(date(2026, 12, day) for day in range(1, 32))
    calendar = BusinessCalendar("UTC", NINE_TO_FIVE, december)

    assert due_at(utc(2026, 11, 30, 16), Target.business(hours(2)), calendar) == utc(
        2027, 1, 1, 10
    )


# ------------------------------------------------------------------- rejections


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


NAIVE_CALLS: list[Callable[[datetime], object]] = [
    lambda naive: add_business_time(naive, hours(1), DEFAULT),
    lambda naive: business_time_between(naive, utc(2026, 6, 9), DEFAULT),
    lambda naive: business_time_between(utc(2026, 6, 1), naive, DEFAULT),
    lambda naive: end_of_business_day(naive, DEFAULT),
    lambda naive: due_at(naive, Target.elapsed(hours(1)), DEFAULT),
    lambda naive: due_at(naive, Target.business(hours(1)), DEFAULT),
    lambda naive: due_at(naive, Target.end_of_business_day(), DEFAULT),
    lambda naive: due_at(naive, Target.business(timedelta(0)), DEFAULT),
]


@pytest.mark.parametrize(
    "call",
    NAIVE_CALLS,
    ids=[
        "add_business_time",
        "business_time_between-start",
        "business_time_between-end",
        "end_of_business_day",
        "due_at-elapsed",
        "due_at-business",
        "due_at-end_of_business_day",
        "due_at-zero-business",
    ],
)
def test_naive_datetime_is_rejected(call: Callable[[datetime], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(_naive(utc(2026, 6, 8, 10)))


def test_calendar_without_working_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one working interval"):
        BusinessCalendar("UTC", ())


def test_unknown_timezone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        BusinessCalendar("Mars/Olympus_Mons", NINE_TO_FIVE)


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [
        pytest.param(0, time(17), time(9), id="ends-before-it-starts"),
        pytest.param(0, time(9), time(9), id="empty"),
        pytest.param(7, time(9), time(17), id="weekday-out-of-range"),
        pytest.param(-1, time(9), time(17), id="negative-weekday"),
        pytest.param(0, time(9, tzinfo=UTC), time(17), id="aware-time"),
    ],
)
def test_invalid_working_interval_is_rejected(
    weekday: int, start: time, end: time
) -> None:
    with pytest.raises(ValueError, match=r"weekday|start before|wall-clock"):
        WorkingInterval(weekday, start, end)


def test_calendar_closed_for_ever_raises_instead_of_looping() -> None:
    calendar = BusinessCalendar("UTC", NINE_TO_FIVE, AlwaysClosed())
    start = utc(2026, 6, 8, 10)

    with pytest.raises(ValueError, match=f"{MAX_CLOSED_DAYS} consecutive days"):
        add_business_time(start, hours(1), calendar)
    with pytest.raises(ValueError, match=f"{MAX_CLOSED_DAYS} consecutive days"):
        end_of_business_day(start, calendar)
    assert business_time_between(start, start + timedelta(days=30), calendar) == (
        timedelta(0)
    )


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: Target.business(-hours(1)), id="negative-business"),
        pytest.param(lambda: Target.elapsed(-hours(1)), id="negative-elapsed"),
        pytest.param(lambda: Target.business_days(-1, NY), id="negative-days"),
        pytest.param(
            lambda: Target("end_of_business_day", hours(1)),
            id="end-of-business-day-with-amount",
        ),
        pytest.param(lambda: Target("fortnightly", hours(1)), id="unknown-kind"),  # type: ignore[arg-type]
    ],
)
def test_invalid_target_is_rejected(build: Callable[[], Target]) -> None:
    with pytest.raises(ValueError, match=r"negative|no amount|unknown target kind"):
        build()


def test_negative_business_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(utc(2026, 6, 8, 10), -hours(1), DEFAULT)


# ------------------------------------------------------------------- properties

ZONES = [NEW_YORK, BERLIN, UTC, KOLKATA, LORD_HOWE, TOKYO]
CALENDARS = [
    DEFAULT,
    NY,
    NY_SPLIT,
    NY_NIGHT,
    NY_WORKS_JULY_3,
    DE,
    DE_NIGHT,
    BusinessCalendar("Australia/Lord_Howe", SPLIT_SHIFT + SUNDAY_NIGHT),
    BusinessCalendar("Europe/Berlin", weekdays(time(0), time(0), range(7))),
]
# Instants just before DST switches in New York, Berlin and Lord Howe.
TRANSITIONS = [
    utc(2024, 3, 10, 6),
    utc(2024, 11, 3, 5),
    utc(2025, 3, 30, 0),
    utc(2025, 10, 26, 0),
    utc(2026, 3, 8, 6),
    utc(2026, 10, 25, 0),
    utc(2027, 4, 3, 14),
    utc(2029, 11, 4, 5),
    utc(2030, 3, 31, 0),
]

any_start = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from(ZONES),
)
start_near_transition = st.builds(
    lambda instant, offset, zone: (instant + offset).astimezone(zone),
    st.sampled_from(TRANSITIONS),
    st.timedeltas(min_value=-timedelta(days=3), max_value=timedelta(days=3)),
    st.sampled_from(ZONES),
)
starts = st.one_of(any_start, start_near_transition)
calendars = st.sampled_from(CALENDARS)
durations = st.one_of(
    st.timedeltas(min_value=timedelta(0), max_value=hours(12)),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
)
gaps = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=5))


@settings(max_examples=300, deadline=None)
@given(start=starts, amount=durations, calendar=calendars)
def test_business_time_between_inverts_due_at(
    start: datetime, amount: timedelta, calendar: BusinessCalendar
) -> None:
    due = due_at(start, Target.business(amount), calendar)

    assert business_time_between(start, due, calendar) == amount
    assert due >= start
    assert due.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(start=starts, first=durations, second=durations, calendar=calendars)
def test_due_at_is_monotone_in_the_amount(
    start: datetime, first: timedelta, second: timedelta, calendar: BusinessCalendar
) -> None:
    smaller, larger = sorted((first, second))

    assert due_at(start, Target.business(smaller), calendar) <= due_at(
        start, Target.business(larger), calendar
    )


@settings(max_examples=300, deadline=None)
@given(start=starts, gap=gaps, amount=durations, calendar=calendars)
def test_due_at_is_monotone_in_the_start(
    start: datetime, gap: timedelta, amount: timedelta, calendar: BusinessCalendar
) -> None:
    target = Target.business(amount)
    # A later instant: wall-clock ``start + gap`` can be earlier when ``start`` is a
    # nonexistent time in a spring-forward gap (02:54 + 6 min = 03:00 EDT < 07:54Z).
    later = start.astimezone(UTC) + gap

    assert due_at(start, target, calendar) <= due_at(later, target, calendar)


@settings(max_examples=300, deadline=None)
@given(start=starts, first=durations, second=durations, calendar=calendars)
def test_business_time_adds_up(
    start: datetime, first: timedelta, second: timedelta, calendar: BusinessCalendar
) -> None:
    in_two_steps = add_business_time(
        add_business_time(start, first, calendar), second, calendar
    )

    assert in_two_steps == add_business_time(start, first + second, calendar)


@settings(max_examples=300, deadline=None)
@given(start=starts, amount=durations, calendar=calendars)
def test_elapsed_target_is_exact_real_time_in_utc(
    start: datetime, amount: timedelta, calendar: BusinessCalendar
) -> None:
    due = due_at(start, Target.elapsed(amount), calendar)

    assert due == start.astimezone(UTC) + amount
    assert due - start == amount
    assert due.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(start=starts, calendar=calendars)
def test_end_of_business_day_is_a_closing_time_after_the_start(
    start: datetime, calendar: BusinessCalendar
) -> None:
    closing = end_of_business_day(start, calendar)
    local_date = closing.astimezone(calendar.zone).date()
    day_ends = {
        spans[-1][1]
        for spans in (
            calendar.working_spans(local_date - timedelta(days=1)),
            calendar.working_spans(local_date),
        )
        if spans
    }

    assert closing > start
    assert closing in day_ends
    assert business_time_between(start, closing, calendar) > timedelta(0)
