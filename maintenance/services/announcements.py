"""Slack announcements: one row per (window, phase), claimed before Slack is called.

The compare-and-set claim means a phase is posted at most once however many
sweeps or task deliveries run. See docs/maintenance.md.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import InvalidTransition
from scalr_support.common.retry import Backoff

from .. import slack
from ..models import (
    ANNOUNCED,
    AnnouncementStatus,
    AuditAction,
    MaintenanceWindow,
    Phase,
    SlackAnnouncement,
    WindowStatus,
)
from .audit import window_audit_record

logger = logging.getLogger(__name__)


# How late an "ended" or "cancelled" post may still go out.
END_GRACE = timedelta(minutes=15)
# Windows whose phases were missed entirely are recorded (as skipped) this far back.
MISSED_LOOKBACK = timedelta(days=2)
MAX_ATTEMPTS = 10
# 5 s after the first failure, doubling to at most 2 minutes apart.
SLACK_BACKOFF = Backoff(first=5, cap=120)
# A claim older than this belongs to a worker that died mid-send (longer than any
# webhook timeout): the post may or may not have happened, so it is not resent.
STALE_SENDING = timedelta(minutes=2)
SWEEP_BATCH = 50


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
    delay = SLACK_BACKOFF.delay(announcement.attempts)
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
    with transaction.atomic(durable=True):
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
        previous = locked.status
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
        window_audit_record(
            action=AuditAction.ANNOUNCEMENT_RETRIED,
            actor=actor,
            window=locked.window,
            changes={f"announcement {locked.phase}": [previous, locked.status]},
        )
    logger.info("slack announcement %s queued again by user %s", locked.pk, actor.pk)
    return locked
