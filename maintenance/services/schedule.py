"""The regular schedule and the windows materialised from it, weeks ahead.

Schedule edits move, add or remove only future windows nobody touched by hand.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import ValidationFailed
from tickets.models import validate_timezone

from .. import schedule as calendar
from ..models import (
    STANDARD_DURATION,
    AuditAction,
    MaintenanceSchedule,
    MaintenanceWindow,
    SlackAnnouncement,
    Weekday,
)
from .audit import changes_between, fields_of, window_audit_record
from .banner import banner_forget_on_commit

logger = logging.getLogger(__name__)


# Windows exist at least this far ahead (plus a day, so a daily gap never matters).
HORIZON = timedelta(weeks=8)
HORIZON_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class MaterialiseResult:
    created: int = 0
    moved: int = 0
    removed: int = 0
    resized: int = 0

    def __add__(self, other: "MaterialiseResult") -> "MaterialiseResult":
        return MaterialiseResult(
            self.created + other.created,
            self.moved + other.moved,
            self.removed + other.removed,
            self.resized + other.resized,
        )


def windows_materialise(
    *, now: datetime | None = None, schedule_id: int | None = None
) -> MaterialiseResult:
    """Make the windows of every schedule (or one) match it, HORIZON ahead.

    Idempotent and safe to run concurrently: each schedule's row is locked while
    its windows are reconciled, and ``(schedule, slot)`` is unique. Only windows
    that have not started, were not edited by hand and were never announced move,
    change length or disappear.
    """
    now = now or timezone.now()
    schedules = MaintenanceSchedule.objects.order_by("pk")
    if schedule_id is not None:
        schedules = schedules.filter(pk=schedule_id)
    result = MaterialiseResult()
    for pk in schedules.values_list("pk", flat=True):
        result += _materialise_one(pk, now)
    return result


def _materialise_one(schedule_id: int, now: datetime) -> MaterialiseResult:
    with transaction.atomic():
        schedule = MaintenanceSchedule.objects.select_for_update().get(pk=schedule_id)
        until = now + HORIZON + HORIZON_MARGIN
        future, held = _movable_and_held(schedule, now, until)
        zone = ZoneInfo(schedule.timezone)
        plan = calendar.reconcile(
            desired=_desired_slots(schedule, now, until),
            free=[(window.pk, _slot(window)) for window in future],
            held=held,
            day_of=lambda moment: moment.astimezone(zone).date(),
        )
        result = _plan_apply(schedule, plan, future)
        if result != MaterialiseResult():
            banner_forget_on_commit()
            logger.info(
                "maintenance schedule %s materialised: %s created, %s moved, "
                "%s removed, %s resized",
                schedule_id,
                result.created,
                result.moved,
                result.removed,
                result.resized,
            )
    return result


def _desired_slots(
    schedule: MaintenanceSchedule, now: datetime, until: datetime
) -> list[datetime]:
    """The occurrences the schedule asks for between now and ``until``."""
    if not schedule.is_active:
        return []
    return calendar.occurrences(
        weekdays=schedule.weekday_numbers,
        start_time=schedule.start_time,
        timezone=schedule.timezone,
        after=now,
        until=until,
    )


def _movable_and_held(
    schedule: MaintenanceSchedule, now: datetime, until: datetime
) -> tuple[list[MaintenanceWindow], list[datetime]]:
    """The schedule's windows that may still move, and the slots of those that may not.

    A window is held once it has started, was edited by hand or was announced.
    """
    windows = schedule.windows.filter(
        slot__gt=now - timedelta(days=2), slot__lte=until
    ).annotate(
        announced=Exists(SlackAnnouncement.objects.filter(window=OuterRef("pk")))
    )
    future: list[MaintenanceWindow] = []
    held: list[datetime] = []
    for candidate in windows:
        window = cast(MaintenanceWindow, candidate)
        if window.starts_at > now and not window.customised and not candidate.announced:
            future.append(window)
        else:
            held.append(_slot(window))
    return future, held


def _plan_apply(
    schedule: MaintenanceSchedule,
    plan: calendar.Plan,
    future: list[MaintenanceWindow],
) -> MaterialiseResult:
    """Move, resize, remove and create windows as the plan says."""
    by_pk = {window.pk: window for window in future}
    duration = schedule.duration
    for pk, slot in plan.moves:
        _place(by_pk[pk], slot, duration)
    moved = {pk for pk, _slot in plan.moves}
    resized = 0
    for window in future:
        if window.pk in moved or window.pk in plan.removals:
            continue
        slot = _slot(window)
        if window.starts_at != slot or window.ends_at != slot + duration:
            _place(window, slot, duration)
            resized += 1
    if plan.removals:
        MaintenanceWindow.objects.filter(pk__in=plan.removals).delete()
    MaintenanceWindow.objects.bulk_create(
        [
            MaintenanceWindow(
                schedule=schedule, slot=slot, starts_at=slot, ends_at=slot + duration
            )
            for slot in plan.creations
        ],
        ignore_conflicts=True,
    )
    return MaterialiseResult(
        created=len(plan.creations),
        moved=len(plan.moves),
        removed=len(plan.removals),
        resized=resized,
    )


def _slot(window: MaintenanceWindow) -> datetime:
    """A scheduled window's occurrence (never empty: a check constraint says so)."""
    if window.slot is None:
        raise AssertionError(f"scheduled window {window.pk} has no slot")
    return window.slot


def _place(window: MaintenanceWindow, slot: datetime, duration: timedelta) -> None:
    window.slot = slot
    window.starts_at = slot
    window.ends_at = slot + duration
    window.sequence += 1
    window.save(
        update_fields=["slot", "starts_at", "ends_at", "sequence", "updated_at"]
    )


@dataclass(frozen=True)
class ScheduleInput:
    weekdays: tuple[int, ...]
    start_time: time
    timezone: str
    duration_minutes: int
    is_active: bool = True
    name: str = "Regular maintenance"


def schedule_input_clean(data: ScheduleInput) -> ScheduleInput:
    weekdays = tuple(sorted(set(data.weekdays)))
    if not weekdays or any(day not in Weekday.values for day in weekdays):
        raise ValidationFailed(_("Choose at least one weekday."), field="weekdays")
    try:
        validate_timezone(data.timezone)
    except Exception:
        raise ValidationFailed(
            _("%(tz)s is not a known IANA timezone.") % {"tz": data.timezone},
            field="timezone",
        ) from None
    limit = int(STANDARD_DURATION.total_seconds() // 60)
    if not 1 <= data.duration_minutes <= limit:
        raise ValidationFailed(
            _("Scheduled maintenance lasts 1 to %(n)d minutes.") % {"n": limit},
            field="duration_minutes",
        )
    return ScheduleInput(
        weekdays=weekdays,
        start_time=data.start_time.replace(second=0, microsecond=0),
        timezone=data.timezone,
        duration_minutes=data.duration_minutes,
        is_active=data.is_active,
        name=data.name.strip() or "Regular maintenance",
    )


_SCHEDULE_FIELDS = (
    "name",
    "weekdays",
    "start_time",
    "timezone",
    "duration_minutes",
    "is_active",
)


def schedule_update(
    *,
    schedule: MaintenanceSchedule,
    actor: User,
    data: ScheduleInput,
    now: datetime | None = None,
) -> MaintenanceSchedule:
    """Change the schedule and re-materialise its future windows in one transaction."""
    data = schedule_input_clean(data)
    with transaction.atomic():
        locked = MaintenanceSchedule.objects.select_for_update().get(pk=schedule.pk)
        before = fields_of(locked, _SCHEDULE_FIELDS)
        locked.name = data.name
        locked.weekdays = ",".join(str(day) for day in data.weekdays)
        locked.start_time = data.start_time
        locked.timezone = data.timezone
        locked.duration_minutes = data.duration_minutes
        locked.is_active = data.is_active
        locked.save(update_fields=[*_SCHEDULE_FIELDS, "updated_at"])
        if changes := changes_between(before, fields_of(locked, _SCHEDULE_FIELDS)):
            window_audit_record(
                action=AuditAction.SCHEDULE_CHANGED,
                actor=actor,
                schedule=locked,
                changes=changes,
            )
        windows_materialise(now=now, schedule_id=locked.pk)
    logger.info("maintenance schedule %s changed by user %s", locked.pk, actor.pk)
    return locked
