"""Materialising the schedule into windows: DST, year ends, edits, idempotence."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from maintenance import services
from maintenance.models import MaintenanceSchedule, MaintenanceWindow, WindowStatus
from maintenance.schedule import occurrence_start, occurrences, reconcile
from scalr_support.common.errors import ValidationFailed
from tests.factories import StaffFactory

from .conftest import make_schedule

LONDON = "Europe/London"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def starts(schedule: MaintenanceSchedule) -> list[datetime]:
    return list(
        schedule.windows.order_by("starts_at").values_list("starts_at", flat=True)
    )


def eight_weeks(now: datetime, weekdays: tuple[int, ...] = (1, 3)) -> list[datetime]:
    return occurrences(
        weekdays=weekdays,
        start_time=time(7),
        timezone="UTC",
        after=now,
        until=now + timedelta(weeks=8),
    )


# --- pure arithmetic ------------------------------------------------------------------


def test_occurrences_follow_local_time_across_the_spring_change():
    found = occurrences(
        weekdays=(1, 3),
        start_time=time(7, 0),
        timezone=LONDON,
        after=utc(2026, 3, 22),
        until=utc(2026, 4, 3),
    )

    assert found == [
        utc(2026, 3, 24, 7, 0),  # GMT
        utc(2026, 3, 26, 7, 0),
        utc(2026, 3, 31, 6, 0),  # BST from 29 March: 07:00 local is 06:00 UTC
        utc(2026, 4, 2, 6, 0),
    ]


def test_occurrences_follow_local_time_across_the_autumn_change():
    found = occurrences(
        weekdays=(1, 3),
        start_time=time(7, 0),
        timezone="America/New_York",
        after=utc(2026, 10, 27),
        until=utc(2026, 11, 6),
    )

    assert found == [
        utc(2026, 10, 27, 11, 0),  # EDT
        utc(2026, 10, 29, 11, 0),
        utc(2026, 11, 3, 12, 0),  # EST from 1 November
        utc(2026, 11, 5, 12, 0),
    ]


def test_a_start_time_inside_the_spring_gap_is_read_forward():
    # 01:30 on 29 March 2026 does not exist in London (01:00 -> 02:00).
    assert occurrence_start(date(2026, 3, 29), time(1, 30), ZoneInfo(LONDON)) == utc(
        2026, 3, 29, 1, 30
    )


def test_an_ambiguous_start_time_is_its_first_occurrence():
    # 01:30 on 25 October 2026 happens twice in London; the first is BST.
    assert occurrence_start(date(2026, 10, 25), time(1, 30), ZoneInfo(LONDON)) == utc(
        2026, 10, 25, 0, 30
    )


def test_occurrences_run_across_the_year_end_without_gaps():
    found = occurrences(
        weekdays=(1, 3),
        start_time=time(7, 0),
        timezone="UTC",
        after=utc(2026, 12, 25),
        until=utc(2027, 1, 9),
    )

    assert found == [
        utc(2026, 12, 29, 7),
        utc(2026, 12, 31, 7),
        utc(2027, 1, 5, 7),
        utc(2027, 1, 7, 7),
    ]


def test_occurrences_near_midnight_keep_the_local_date():
    # 00:15 Tuesday in Tokyo is Monday 15:15 UTC.
    found = occurrences(
        weekdays=(1,),
        start_time=time(0, 15),
        timezone="Asia/Tokyo",
        after=utc(2026, 6, 1),
        until=utc(2026, 6, 10),
    )

    assert found == [utc(2026, 6, 1, 15, 15), utc(2026, 6, 8, 15, 15)]


def test_reconcile_moves_stale_windows_before_creating_or_removing():
    day = lambda moment: moment.date()  # noqa: E731
    plan = reconcile(
        desired=[utc(2026, 1, 6, 9), utc(2026, 1, 8, 9), utc(2026, 1, 13, 9)],
        free=[(1, utc(2026, 1, 6, 7)), (2, utc(2026, 1, 8, 7))],
        held=[utc(2026, 1, 13, 7)],  # edited by hand: the 13th keeps its window
        day_of=day,
    )

    assert plan.moves == [(1, utc(2026, 1, 6, 9)), (2, utc(2026, 1, 8, 9))]
    assert plan.creations == []
    assert plan.removals == []


# --- materialising -------------------------------------------------------------------


@pytest.mark.django_db
def test_windows_are_materialised_at_least_eight_weeks_ahead():
    schedule = make_schedule()
    now = utc(2026, 3, 2, 12)

    result = services.windows_materialise(now=now, schedule_id=schedule.pk)

    times = starts(schedule)
    assert result.created == len(times) >= 16
    assert times[0] == utc(2026, 3, 3, 7)
    assert set(eight_weeks(now)) <= set(times)
    assert all(t.weekday() in (1, 3) and t.time() == time(7) for t in times)
    assert all(
        w.ends_at - w.starts_at == timedelta(minutes=30) for w in schedule.windows.all()
    )


@pytest.mark.django_db
def test_materialising_twice_changes_nothing():
    schedule = make_schedule()
    now = utc(2026, 3, 2, 12)
    services.windows_materialise(now=now, schedule_id=schedule.pk)
    before = list(schedule.windows.values_list("pk", "starts_at", "ends_at"))

    again = services.windows_materialise(now=now, schedule_id=schedule.pk)

    assert again == services.MaterialiseResult()
    assert list(schedule.windows.values_list("pk", "starts_at", "ends_at")) == before


@pytest.mark.django_db
def test_materialised_windows_across_dst_keep_the_local_start_time():
    schedule = make_schedule(timezone=LONDON)

    services.windows_materialise(now=utc(2026, 3, 16), schedule_id=schedule.pk)

    local = [t.astimezone(ZoneInfo(LONDON)) for t in starts(schedule)]
    assert {t.time() for t in local} == {time(7, 0)}
    assert utc(2026, 3, 26, 7) in starts(schedule)
    assert utc(2026, 3, 31, 6) in starts(schedule)


@pytest.mark.django_db
def test_materialising_over_the_year_end_as_time_passes_adds_without_duplicates():
    schedule = make_schedule()
    for day in range(10, 32):  # every day of late December, then into January
        services.windows_materialise(now=utc(2026, 12, day, 8), schedule_id=schedule.pk)
    services.windows_materialise(now=utc(2027, 1, 4, 8), schedule_id=schedule.pk)

    times = starts(schedule)
    assert len(times) == len(set(times))
    assert utc(2026, 12, 31, 7) in times
    assert utc(2027, 1, 5, 7) in times
    expected = occurrences(
        weekdays=(1, 3),
        start_time=time(7),
        timezone="UTC",
        after=utc(2026, 12, 10, 8),
        until=utc(2027, 1, 4, 8) + services.HORIZON + services.HORIZON_MARGIN,
    )
    assert times == expected  # none dropped either


@pytest.mark.django_db
def test_editing_the_time_moves_untouched_future_windows_only():
    staff = StaffFactory()
    schedule = make_schedule(timezone=LONDON)
    now = utc(2026, 3, 3, 7, 10)  # during Tuesday's window
    services.windows_materialise(now=now - timedelta(days=1), schedule_id=schedule.pk)
    running = schedule.windows.get(starts_at=utc(2026, 3, 3, 7))
    annotated = schedule.windows.get(starts_at=utc(2026, 3, 5, 7))
    services.window_change(
        window=annotated,
        actor=staff,
        change=services.WindowChange(note="Database upgrade"),
        now=now,
    )
    cancelled = schedule.windows.get(starts_at=utc(2026, 3, 10, 7))
    services.window_cancel(window=cancelled, actor=staff, now=now)
    untouched = schedule.windows.get(starts_at=utc(2026, 3, 12, 7))
    count = schedule.windows.count()

    services.schedule_update(
        schedule=schedule,
        actor=staff,
        data=services.ScheduleInput(
            weekdays=(1, 3),
            start_time=time(9, 30),
            timezone=LONDON,
            duration_minutes=20,
        ),
        now=now,
    )

    assert schedule.windows.count() == count
    running.refresh_from_db()
    annotated.refresh_from_db()
    cancelled.refresh_from_db()
    untouched.refresh_from_db()
    assert running.starts_at == utc(2026, 3, 3, 7)  # started: left alone
    assert annotated.starts_at == utc(2026, 3, 5, 7)  # annotated: left alone
    assert cancelled.status == WindowStatus.CANCELLED
    assert untouched.starts_at == utc(2026, 3, 12, 9, 30)  # same row, moved
    assert untouched.ends_at - untouched.starts_at == timedelta(minutes=20)
    assert untouched.sequence == 1
    # One window per day: no 09:30 twin next to the annotated or cancelled ones.
    days = [t.date() for t in starts(schedule)]
    assert len(days) == len(set(days))


@pytest.mark.django_db
def test_editing_the_weekdays_reuses_rows_and_removes_only_untouched_ones():
    staff = StaffFactory()
    schedule = make_schedule()
    now = utc(2026, 3, 2, 12)
    services.windows_materialise(now=now, schedule_id=schedule.pk)
    ids = set(schedule.windows.values_list("pk", flat=True))

    services.schedule_update(
        schedule=schedule,
        actor=staff,
        data=services.ScheduleInput(
            weekdays=(2,), start_time=time(7), timezone="UTC", duration_minutes=30
        ),
        now=now,
    )

    times = starts(schedule)
    assert times
    assert all(t.weekday() == 2 for t in times)
    assert set(schedule.windows.values_list("pk", flat=True)) <= ids
    assert set(eight_weeks(now, weekdays=(2,))) <= set(times)

    services.schedule_update(
        schedule=schedule,
        actor=staff,
        data=services.ScheduleInput(
            weekdays=(1, 3), start_time=time(7), timezone="UTC", duration_minutes=30
        ),
        now=now,
    )

    assert starts(schedule) == occurrences(
        weekdays=(1, 3),
        start_time=time(7),
        timezone="UTC",
        after=now,
        until=now + services.HORIZON + services.HORIZON_MARGIN,
    )


@pytest.mark.django_db
def test_deactivating_the_schedule_removes_untouched_future_windows():
    staff = StaffFactory()
    schedule = make_schedule()
    now = utc(2026, 3, 2, 12)
    services.windows_materialise(now=now, schedule_id=schedule.pk)
    keep = schedule.windows.order_by("starts_at")[2]
    services.window_change(
        window=keep, actor=staff, change=services.WindowChange(note="Kept"), now=now
    )

    services.schedule_update(
        schedule=schedule,
        actor=staff,
        data=services.ScheduleInput(
            weekdays=(1, 3),
            start_time=time(7),
            timezone="UTC",
            duration_minutes=30,
            is_active=False,
        ),
        now=now,
    )

    assert list(schedule.windows.values_list("pk", flat=True)) == [keep.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("weekdays", {"weekdays": ()}),
        ("timezone", {"timezone": "Mars/Olympus"}),
        ("duration_minutes", {"duration_minutes": 45}),
    ],
)
def test_schedule_edits_are_validated(field, data):
    schedule = make_schedule()
    values = {
        "weekdays": (1, 3),
        "start_time": time(7),
        "timezone": "UTC",
        "duration_minutes": 30,
        **data,
    }

    with pytest.raises(ValidationFailed) as refused:
        services.schedule_update(
            schedule=schedule,
            actor=StaffFactory(),
            data=services.ScheduleInput(**values),
        )

    assert refused.value.field == field


@pytest.mark.django_db
def test_the_seeded_schedule_is_tuesday_and_thursday_at_seven_utc():
    from tests.factories import reseed_policy_data

    reseed_policy_data()  # a transactional test may have flushed it
    schedule = MaintenanceSchedule.objects.order_by("pk").first()

    assert schedule is not None
    assert schedule.weekday_numbers == (1, 3)
    assert schedule.start_time == time(7, 0)
    assert schedule.timezone == "UTC"
    assert schedule.duration_minutes == 30


@pytest.mark.django_db
def test_materialise_task_delivered_twice_has_one_effect():
    from maintenance.tasks import windows_materialise

    make_schedule()
    first = windows_materialise.apply().get()
    count = MaintenanceWindow.objects.count()

    assert first > 0
    assert windows_materialise.apply().get() == 0
    assert MaintenanceWindow.objects.count() == count
