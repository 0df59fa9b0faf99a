"""Every write to maintenance schedules, windows and Slack announcements.

Windows: the schedule is materialised into concrete rows weeks ahead; schedule edits
move, add or remove only future windows nobody touched by hand. Announcements: one
row per (window, phase), claimed with a compare-and-set before Slack is called, so
a phase is posted at most once however many sweeps or task deliveries run. See
docs/maintenance.md.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import EmailDelivery, Event
from notifications.services import notification_enqueue
from scalr_support.accounts.models import User
from scalr_support.common.errors import InvalidTransition, ValidationFailed
from tickets.models import Contact, validate_timezone

from . import schedule as calendar
from . import slack
from .models import (
    ANNOUNCED,
    STANDARD_DURATION,
    AnnouncementStatus,
    MaintenanceSchedule,
    MaintenanceWindow,
    Phase,
    SlackAnnouncement,
    Weekday,
    WindowStatus,
)
from .selectors import banner_forget

logger = logging.getLogger(__name__)

# Windows exist at least this far ahead (plus a day, so a daily gap never matters).
HORIZON = timedelta(weeks=8)
HORIZON_MARGIN = timedelta(days=1)
LONGEST_WINDOW = timedelta(hours=12)
# How late an "ended" or "cancelled" post may still go out.
END_GRACE = timedelta(minutes=15)
# Windows whose phases were missed entirely are recorded (as skipped) this far back.
MISSED_LOOKBACK = timedelta(days=2)
MAX_ATTEMPTS = 10
BACKOFF_FIRST = 5  # seconds
BACKOFF_CAP = 120
# A claim older than this belongs to a worker that died mid-send (longer than any
# webhook timeout): the post may or may not have happened, so it is not resent.
STALE_SENDING = timedelta(minutes=2)
SWEEP_BATCH = 50


def _after_commit_refresh_banner() -> None:
    transaction.on_commit(banner_forget)


# --- the schedule and its windows -------------------------------------------------


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
        desired = []
        if schedule.is_active:
            desired = calendar.occurrences(
                weekdays=schedule.weekday_numbers,
                start_time=schedule.start_time,
                timezone=schedule.timezone,
                after=now,
                until=until,
            )
        windows = schedule.windows.filter(
            slot__gt=now - timedelta(days=2), slot__lte=until
        ).annotate(
            announced=Exists(SlackAnnouncement.objects.filter(window=OuterRef("pk")))
        )
        future: list[MaintenanceWindow] = []
        held: list[datetime] = []
        for candidate in windows:
            window = cast(MaintenanceWindow, candidate)
            if (
                window.starts_at > now
                and not window.customised
                and not candidate.announced
            ):
                future.append(window)
            else:
                held.append(_slot(window))
        zone = ZoneInfo(schedule.timezone)
        plan = calendar.reconcile(
            desired=desired,
            free=[(window.pk, _slot(window)) for window in future],
            held=held,
            day_of=lambda moment: moment.astimezone(zone).date(),
        )
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
                    schedule=schedule,
                    slot=slot,
                    starts_at=slot,
                    ends_at=slot + duration,
                )
                for slot in plan.creations
            ],
            ignore_conflicts=True,
        )
        result = MaterialiseResult(
            created=len(plan.creations),
            moved=len(plan.moves),
            removed=len(plan.removals),
            resized=resized,
        )
        if result != MaterialiseResult():
            _after_commit_refresh_banner()
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
        locked.name = data.name
        locked.weekdays = ",".join(str(day) for day in data.weekdays)
        locked.start_time = data.start_time
        locked.timezone = data.timezone
        locked.duration_minutes = data.duration_minutes
        locked.is_active = data.is_active
        locked.save(
            update_fields=[
                "name",
                "weekdays",
                "start_time",
                "timezone",
                "duration_minutes",
                "is_active",
                "updated_at",
            ]
        )
        windows_materialise(now=now, schedule_id=locked.pk)
    logger.info("maintenance schedule %s changed by user %s", locked.pk, actor.pk)
    return locked


def window_times_check(starts_at: datetime, ends_at: datetime, reason: str) -> None:
    """Refuse impossible times, and a window over 30 minutes without a reason."""
    if timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise ValidationFailed(_("Give times with a timezone."), field="starts_at")
    if ends_at <= starts_at:
        raise ValidationFailed(_("A window must end after it starts."), field="ends_at")
    if ends_at - starts_at > LONGEST_WINDOW:
        raise ValidationFailed(
            _("A maintenance window lasts at most 12 hours."), field="ends_at"
        )
    if ends_at - starts_at > STANDARD_DURATION and not reason.strip():
        raise ValidationFailed(
            _("A window longer than 30 minutes needs a stated reason."),
            field="reason",
        )


def window_create_check(
    starts_at: datetime, ends_at: datetime, reason: str, now: datetime
) -> None:
    window_times_check(starts_at, ends_at, reason)
    if ends_at <= now:
        raise ValidationFailed(_("The window would be over already."), field="ends_at")


def window_create(
    *,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    reason: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> MaintenanceWindow:
    """Add an ad-hoc window; it belongs to no schedule, so schedule edits skip it."""
    now = now or timezone.now()
    window_create_check(starts_at, ends_at, reason, now)
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(
            starts_at=starts_at,
            ends_at=ends_at,
            note=note.strip(),
            reason=reason.strip(),
            customised=True,
            created_by=actor,
        )
        _after_commit_refresh_banner()
    logger.info("ad-hoc maintenance window %s added", window.pk)
    return window


@dataclass(frozen=True)
class WindowChange:
    """A window's new times and texts; None leaves a value as it is."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    note: str | None = None
    reason: str | None = None


def window_change_check(
    window: MaintenanceWindow, change: WindowChange, now: datetime
) -> dict[str, object]:
    """The fields a change would set, or the business error that refuses it.

    A window that has started keeps its start; one that is over keeps its times
    (a note may still be added); a cancelled one keeps everything.
    """
    if window.is_cancelled:
        raise InvalidTransition(_("A cancelled window cannot be changed."))
    starts_at = change.starts_at or window.starts_at
    # Moving the start alone keeps the window's length.
    ends_at = change.ends_at or starts_at + window.duration
    note = window.note if change.note is None else change.note.strip()
    reason = window.reason if change.reason is None else change.reason.strip()
    moved = starts_at != window.starts_at
    if moved and window.starts_at <= now:
        raise InvalidTransition(
            _("This window has started; its start can no longer move."),
            field="starts_at",
        )
    if moved and starts_at <= now:
        raise ValidationFailed(
            _("Move the window to a time in the future."), field="starts_at"
        )
    if (moved or ends_at != window.ends_at) and ends_at <= now:
        raise ValidationFailed(_("The window would be over already."), field="ends_at")
    window_times_check(starts_at, ends_at, reason)
    wanted = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "note": note,
        "reason": reason,
    }
    return {
        name: value for name, value in wanted.items() if getattr(window, name) != value
    }


def window_change(
    *,
    window: MaintenanceWindow,
    actor: User | None,
    change: WindowChange,
    now: datetime | None = None,
) -> MaintenanceWindow:
    """Move, shorten, lengthen or annotate one window; it then keeps its own times.

    The window is marked as customised, so later schedule edits leave it alone,
    and its iCalendar SEQUENCE goes up.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        changes = window_change_check(locked, change, now)
        if not changes:
            return locked
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.customised = True
        locked.sequence += 1
        locked.save(update_fields=[*changes, "customised", "sequence", "updated_at"])
        _after_commit_refresh_banner()
    logger.info("maintenance window %s changed (%s)", locked.pk, ", ".join(changes))
    _copy(window, locked)
    return locked


def window_cancel(
    *, window: MaintenanceWindow, actor: User | None, now: datetime | None = None
) -> MaintenanceWindow:
    """Cancel a window that has not ended; cancelling twice changes nothing.

    If its start was already announced in Slack, the next sweep posts a
    cancellation notice instead of the "complete" message.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        if locked.is_cancelled:
            return locked
        if locked.ends_at <= now:
            raise InvalidTransition(_("This window is over; it cannot be cancelled."))
        locked.status = WindowStatus.CANCELLED
        locked.cancelled_at = now
        locked.customised = True
        locked.sequence += 1
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "customised",
                "sequence",
                "updated_at",
            ]
        )
        _after_commit_refresh_banner()
    logger.info("maintenance window %s cancelled", locked.pk)
    _copy(window, locked)
    return locked


def _copy(target: MaintenanceWindow, source: MaintenanceWindow) -> None:
    if target is source:
        return
    for name in (
        "starts_at",
        "ends_at",
        "note",
        "reason",
        "status",
        "cancelled_at",
        "customised",
        "sequence",
        "updated_at",
    ):
        setattr(target, name, getattr(source, name))


# --- Slack announcements -----------------------------------------------------------


def announcements_sweep(*, now: datetime | None = None) -> list[int]:
    """Record every phase that is due and return the announcements to send now.

    Run every 15 s by beat, concurrently if beats overlap: rows are created with
    ``get_or_create`` on the unique (window, phase), so a phase gets one row
    whoever gets there first; sending claims each row separately. A start is due
    while the window runs (a late start only then); the end once the window is
    over and its start was announced; a cancellation notice once an announced
    window is cancelled.
    """
    now = now or timezone.now()
    _release_stale_claims(now)
    scheduled = MaintenanceWindow.objects.filter(status=WindowStatus.SCHEDULED)
    for window in scheduled.filter(starts_at__lte=now, ends_at__gt=now).exclude(
        announcements__phase=Phase.STARTED
    ):
        _record_phase(window, Phase.STARTED, now=now, deadline=window.ends_at)
    for window in scheduled.filter(
        ends_at__lte=now, ends_at__gt=now - MISSED_LOOKBACK
    ).exclude(announcements__phase=Phase.STARTED):
        _record_phase(
            window,
            Phase.STARTED,
            now=now,
            deadline=window.ends_at,
            skipped=_("Not announced: no sweep ran while the window was running."),
        )
    for window in (
        scheduled.filter(ends_at__lte=now, ends_at__gt=now - MISSED_LOOKBACK)
        .filter(announcements__phase=Phase.STARTED, announcements__status__in=ANNOUNCED)
        .exclude(announcements__phase=Phase.ENDED)
    ):
        _record_phase(window, Phase.ENDED, now=now, deadline=window.ends_at + END_GRACE)
    for window in (
        MaintenanceWindow.objects.filter(
            status=WindowStatus.CANCELLED, cancelled_at__gt=now - MISSED_LOOKBACK
        )
        .filter(announcements__phase=Phase.STARTED, announcements__status__in=ANNOUNCED)
        .exclude(announcements__phase__in=[Phase.CANCELLED, Phase.ENDED])
    ):
        assert window.cancelled_at is not None  # noqa: S101 - cancelled implies it
        _record_phase(
            window,
            Phase.CANCELLED,
            now=now,
            deadline=window.cancelled_at + END_GRACE,
        )
    return list(
        SlackAnnouncement.objects.filter(
            status=AnnouncementStatus.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


def _record_phase(
    window: MaintenanceWindow,
    phase: str,
    *,
    now: datetime,
    deadline: datetime,
    skipped: str = "",
) -> None:
    """Create the (window, phase) row unless it exists; a late phase is skipped."""
    if not skipped and now >= deadline:
        skipped = _("Not announced: it was due before %(deadline)s.") % {
            "deadline": f"{deadline:%Y-%m-%d %H:%M} UTC"
        }
    announcement, created = SlackAnnouncement.objects.get_or_create(
        window=window,
        phase=phase,
        defaults={
            "status": AnnouncementStatus.SKIPPED
            if skipped
            else AnnouncementStatus.PENDING,
            "next_attempt_at": now,
            "deadline": deadline,
            "last_error": skipped,
        },
    )
    if created and skipped:
        logger.warning(
            "slack announcement %s (%s, window %s) skipped: %s",
            announcement.pk,
            phase,
            window.pk,
            skipped,
        )


def _release_stale_claims(now: datetime) -> None:
    """Mark sends abandoned by a dead worker as unknown (shown in the admin)."""
    stale = SlackAnnouncement.objects.filter(
        status=AnnouncementStatus.SENDING, claimed_at__lt=now - STALE_SENDING
    ).values_list("pk", flat=True)
    for pk in stale:
        released = SlackAnnouncement.objects.filter(
            pk=pk, status=AnnouncementStatus.SENDING
        ).update(
            status=AnnouncementStatus.UNKNOWN,
            last_error=_(
                "The worker stopped while posting; Slack may or may not have the "
                "message. Check #announcements before sending it again."
            ),
        )
        if released:
            logger.error("slack announcement %s: worker stopped mid-send", pk)


def _skip_reason(announcement: SlackAnnouncement, now: datetime) -> str:
    window = announcement.window
    if announcement.phase == Phase.STARTED:
        if window.is_cancelled:
            return _("Not announced: the window was cancelled first.")
        if window.ends_at <= now:
            return _("Not announced: the window ended before it could be.")
    if announcement.phase == Phase.ENDED and window.is_cancelled:
        return _("Not announced: the window was cancelled (a notice says so).")
    return ""


def _backoff(attempts: int) -> timedelta:
    return timedelta(
        seconds=min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CAP)
    )


def announcement_send(
    *, announcement_id: int, now: datetime | None = None
) -> str | None:
    """Claim one pending announcement, post it and record Slack's answer.

    At most once per (window, phase): only the caller whose compare-and-set moves
    the row from pending to sending calls Slack, outside any transaction; a task
    delivered twice or a second sweep finds nothing to claim. Transient failures
    (5xx, 429 after its Retry-After, timeouts, refused connections) put the row
    back to pending with a backoff until its deadline; the rest fail for good.
    Returns the row's new status, or None if there was nothing to claim.
    """
    now = now or timezone.now()
    claimed = SlackAnnouncement.objects.filter(
        pk=announcement_id,
        status=AnnouncementStatus.PENDING,
        next_attempt_at__lte=now,
    ).update(
        status=AnnouncementStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    announcement = SlackAnnouncement.objects.select_related("window").get(
        pk=announcement_id
    )
    if reason := _skip_reason(announcement, now):
        return _finish(announcement, AnnouncementStatus.SKIPPED, error=reason)
    if now >= announcement.deadline:
        return _finish(
            announcement,
            AnnouncementStatus.FAILED,
            error=_("Gave up: the announcement would be too late."),
        )
    announcement.text = slack.message_text(announcement.phase, announcement.window)
    url = settings.SLACK_WEBHOOK_URL
    if not url:
        logger.info(
            "slack announcement %s (%s, window %s) not sent, no webhook: %s",
            announcement.pk,
            announcement.phase,
            announcement.window_id,
            announcement.text,
        )
        return _finish(
            announcement, AnnouncementStatus.NOT_SENT, error="not sent: no webhook"
        )
    outcome = slack.post(
        url=url, text=announcement.text, timeout=settings.SLACK_WEBHOOK_TIMEOUT
    )
    announcement.http_status = outcome.http_status
    announcement.response_body = outcome.body
    if outcome.delivered:
        return _finish(announcement, AnnouncementStatus.SENT)
    return _record_failure(announcement, outcome, max(now, timezone.now()))


def _finish(announcement: SlackAnnouncement, status: str, *, error: str = "") -> str:
    announcement.status = status
    announcement.last_error = error
    announcement.sent_at = timezone.now() if status == AnnouncementStatus.SENT else None
    announcement.save(
        update_fields=[
            "status",
            "last_error",
            "sent_at",
            "text",
            "http_status",
            "response_body",
            "updated_at",
        ]
    )
    log = logger.error if status == AnnouncementStatus.FAILED else logger.info
    log(
        "slack announcement %s (%s, window %s) %s %s",
        announcement.pk,
        announcement.phase,
        announcement.window_id,
        status,
        error,
    )
    return status


def _record_failure(
    announcement: SlackAnnouncement, outcome: slack.Outcome, now: datetime
) -> str:
    delay = _backoff(announcement.attempts)
    if outcome.retry_after is not None:
        delay = max(delay, timedelta(seconds=outcome.retry_after))
    next_attempt = now + delay
    if (
        outcome.transient
        and announcement.attempts < MAX_ATTEMPTS
        and next_attempt < announcement.deadline
    ):
        announcement.status = AnnouncementStatus.PENDING
        announcement.next_attempt_at = next_attempt
        announcement.last_error = outcome.error
        announcement.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "last_error",
                "text",
                "http_status",
                "response_body",
                "updated_at",
            ]
        )
        logger.warning(
            "slack announcement %s (%s) attempt %s failed (%s); retry in %ss",
            announcement.pk,
            announcement.phase,
            announcement.attempts,
            outcome.error,
            int(delay.total_seconds()),
        )
        return AnnouncementStatus.PENDING
    return _finish(announcement, AnnouncementStatus.FAILED, error=outcome.error)


def announcement_retry(
    *, announcement: SlackAnnouncement, actor: User, now: datetime | None = None
) -> SlackAnnouncement:
    """Queue a failed or unknown announcement again, if it still makes sense.

    For an unknown one the engineer has checked Slack: this may post it twice.
    """
    now = now or timezone.now()
    retryable = (AnnouncementStatus.FAILED, AnnouncementStatus.UNKNOWN)
    with transaction.atomic():
        locked = (
            SlackAnnouncement.objects.select_for_update()
            .select_related("window")
            .get(pk=announcement.pk)
        )
        if locked.status not in retryable:
            raise InvalidTransition(
                _("Only failed or unknown announcements can be sent again.")
            )
        if locked.phase == Phase.STARTED:
            deadline = locked.window.ends_at
        else:
            deadline = now + END_GRACE
        if deadline <= now:
            raise InvalidTransition(
                _("The window is over; announcing its start now would mislead.")
            )
        locked.status = AnnouncementStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = now
        locked.deadline = deadline
        locked.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "deadline",
                "updated_at",
            ]
        )
    logger.info("slack announcement %s queued again by user %s", locked.pk, actor.pk)
    return locked


# --- the day-before email ----------------------------------------------------------


def contact_maintenance_reminders_set(*, contact: Contact, enabled: bool) -> Contact:
    """Opt in to (or out of) an email the day before each maintenance window."""
    contact.maintenance_reminders = enabled
    contact.save(update_fields=["maintenance_reminders"])
    return contact


REMINDER_LEAD = timedelta(hours=24)


def reminder_event_key(window: MaintenanceWindow) -> str:
    """The outbox key: the window and its start, so a moved window is mailed again."""
    return f"maintenance:{window.pk}:{window.starts_at:%Y%m%dT%H%MZ}"


def _reminder_context(window: MaintenanceWindow, tz_name: str) -> dict[str, str]:
    zone = ZoneInfo(tz_name)
    start = window.starts_at.astimezone(zone)
    end = window.ends_at.astimezone(zone)
    return {
        "window_id": str(window.pk),
        "starts": f"{start:%A} {start.day} {start:%B %Y, %H:%M %Z}",
        "ends": f"{end:%H:%M %Z}"
        if end.date() == start.date()
        else (f"{end:%A} {end.day} {end:%B %Y, %H:%M %Z}"),
        "timezone": tz_name,
        "note": window.note,
        "maintenance_url": settings.SITE_URL + reverse("maintenance:list"),
    }


def reminders_enqueue(*, now: datetime | None = None) -> int:
    """Queue the day-before email for each window starting within 24 hours.

    Only contacts who opted in receive it, with times in their organisation's
    timezone. At-least-once, de-duplicated by (event key, recipient) in the
    outbox: running again, or twice at once, mails nobody twice. Returns how many
    deliveries were queued.
    """
    now = now or timezone.now()
    windows = list(
        MaintenanceWindow.objects.filter(
            status=WindowStatus.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + REMINDER_LEAD,
        )
    )
    if not windows:
        return 0
    contacts = list(
        Contact.objects.filter(maintenance_reminders=True, user__is_active=True)
        .select_related("user", "organization")
        .order_by("pk")
    )
    queued = 0
    for window in windows:
        key = reminder_event_key(window)
        mailed = set(
            EmailDelivery.objects.filter(event_key=key).values_list(
                "recipient_id", flat=True
            )
        )
        by_zone: dict[str, list[User]] = defaultdict(list)
        for contact in contacts:
            if contact.user_id not in mailed:
                by_zone[contact.organization.timezone].append(contact.user)
        for tz_name, users in sorted(by_zone.items()):
            with transaction.atomic():
                queued += notification_enqueue(
                    event=Event.MAINTENANCE_REMINDER,
                    event_key=key,
                    recipients=users,
                    context=_reminder_context(window, tz_name),
                )
    return queued
