"""Ad-hoc windows and hand edits of one window: create, change, cancel."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import InvalidTransition, ValidationFailed

from ..models import (
    STANDARD_DURATION,
    AuditAction,
    MaintenanceWindow,
    WindowStatus,
)
from .audit import changes_between, fields_of, window_audit_record
from .banner import banner_forget_on_commit

logger = logging.getLogger(__name__)


LONGEST_WINDOW = timedelta(hours=12)


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
        window_audit_record(
            action=AuditAction.WINDOW_CREATED,
            actor=actor,
            window=window,
            changes=changes_between(
                {}, fields_of(window, ("starts_at", "ends_at", "note", "reason"))
            ),
        )
        banner_forget_on_commit()
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
        before = fields_of(locked, changes)
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.customised = True
        locked.sequence += 1
        locked.save(update_fields=[*changes, "customised", "sequence", "updated_at"])
        window_audit_record(
            action=AuditAction.WINDOW_CHANGED,
            actor=actor,
            window=locked,
            changes=changes_between(before, changes),
        )
        banner_forget_on_commit()
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
    with transaction.atomic(durable=True):
        locked = MaintenanceWindow.objects.select_for_update().get(pk=window.pk)
        if locked.is_cancelled:
            return locked
        if locked.ends_at <= now:
            raise InvalidTransition(_("This window is over; it cannot be cancelled."))
        before = fields_of(locked, ("status", "cancelled_at"))
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
        window_audit_record(
            action=AuditAction.WINDOW_CANCELLED,
            actor=actor,
            window=locked,
            changes=changes_between(
                before, fields_of(locked, ("status", "cancelled_at"))
            ),
        )
        banner_forget_on_commit()
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
