"""Maintenance: the recurring schedule, concrete windows and their Slack posts.

The schedule says when maintenance happens (the policy's "every Tuesday and
Thursday"); ``services.windows_materialise`` turns it into one ``MaintenanceWindow``
row per occurrence, weeks ahead, so that each can be cancelled, moved, shortened or
annotated on its own. Every Slack post is a ``SlackAnnouncement`` row, unique per
(window, phase), claimed before it is sent.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from scalr_support.common.models import ActorAuditEntry
from tickets.models import validate_timezone

# The policy: "Maintenance typically lasts no more than 30 minutes". A longer window
# is allowed, but only with a stated reason.
STANDARD_DURATION = timedelta(minutes=30)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def parse_weekdays(value: str) -> tuple[int, ...]:
    """'1,3' -> (1, 3): the stored form of a schedule's weekdays (Monday is 0)."""
    days = {int(part) for part in value.split(",") if part.strip()}
    return tuple(sorted(days))


def validate_weekdays(value: str) -> None:
    try:
        days = parse_weekdays(value)
    except ValueError:
        days = ()
    if not days or any(day not in Weekday.values for day in days):
        raise ValidationError(
            _("Choose at least one weekday (0 is Monday, 6 is Sunday).")
        )


class MaintenanceSchedule(models.Model):
    """When regular maintenance happens: weekdays, a local start time, a duration.

    Managers edit it in the admin; every edit re-materialises the future windows
    that nobody has touched by hand (``services.schedule_update``).
    """

    name = models.CharField(max_length=100, default="Regular maintenance")
    weekdays = models.CharField(
        max_length=20,
        default="1,3",
        validators=[validate_weekdays],
        help_text=_("Days of the week, 0 (Monday) to 6 (Sunday), comma-separated."),
    )
    start_time = models.TimeField(help_text=_("Local time in the timezone below."))
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    duration_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[
            MinValueValidator(1),
            MaxValueValidator(int(STANDARD_DURATION.total_seconds() // 60)),
        ],
        help_text=_("The policy allows up to 30 minutes."),
    )
    is_active = models.BooleanField(
        default=True, help_text=_("Inactive: no new windows; future ones are removed.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("pk",)

    def __str__(self) -> str:
        return self.name

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        return parse_weekdays(self.weekdays)

    @property
    def weekday_labels(self) -> list[str]:
        return [str(Weekday(day).label) for day in self.weekday_numbers]

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class WindowStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class MaintenanceWindow(models.Model):
    """One concrete maintenance period, from the schedule (``slot``) or ad hoc.

    ``slot`` is the schedule occurrence the window stands for and never changes when
    the window is moved by hand, so re-materialising cannot create it twice.
    ``customised`` marks windows edited one by one; schedule edits leave them alone.
    """

    schedule = models.ForeignKey(
        MaintenanceSchedule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="windows",
        help_text=_("Empty for an ad-hoc window."),
    )
    slot = models.DateTimeField(null=True, blank=True, editable=False)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=WindowStatus.choices, default=WindowStatus.SCHEDULED
    )
    note = models.TextField(
        blank=True, help_text=_("Shown to customers on the portal and in Slack.")
    )
    reason = models.TextField(
        blank=True, help_text=_("Required when the window is longer than 30 minutes.")
    )
    customised = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("Edited by hand; schedule changes leave it alone."),
    )
    sequence = models.PositiveIntegerField(
        default=0, editable=False, help_text=_("iCalendar revision number.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("starts_at", "pk")
        indexes = [
            models.Index(fields=["status", "ends_at"], name="window_status_end"),
            models.Index(fields=["starts_at"], name="window_start"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "slot"], name="one_window_per_schedule_slot"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="window_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(schedule__isnull=True, slot__isnull=True)
                | Q(schedule__isnull=False, slot__isnull=False),
                name="window_slot_with_schedule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} UTC ({self.get_status_display()})"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def duration_minutes(self) -> int:
        return int(self.duration.total_seconds() // 60)

    @property
    def is_ad_hoc(self) -> bool:
        return self.schedule_id is None

    @property
    def is_cancelled(self) -> bool:
        return self.status == WindowStatus.CANCELLED


class Phase(models.TextChoices):
    STARTED = "started", _("Started")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled after the start was announced")


class AnnouncementStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    NOT_SENT = "not_sent", _("Not sent: no webhook")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown: the worker stopped while sending")


# Statuses in which the phase counts as announced (the next phase may follow).
ANNOUNCED = (AnnouncementStatus.SENT, AnnouncementStatus.NOT_SENT)


class SlackAnnouncement(models.Model):
    """One Slack post about one window and phase: created once, claimed, sent, marked.

    ``(window, phase)`` is unique, so however many sweeps run, a phase has one row;
    the row moves pending -> sending (a compare-and-set claim) -> sent, and only the
    worker that moved it to sending talks to Slack.
    """

    window = models.ForeignKey(
        MaintenanceWindow, on_delete=models.PROTECT, related_name="announcements"
    )
    phase = models.CharField(max_length=10, choices=Phase.choices)
    status = models.CharField(
        max_length=10,
        choices=AnnouncementStatus.choices,
        default=AnnouncementStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    deadline = models.DateTimeField(help_text=_("No attempt is made after this."))
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    text = models.TextField(blank=True, help_text=_("The message as posted."))
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        permissions = [
            ("retry_slackannouncement", "Can send a failed announcement again"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "phase"], name="one_slack_post_per_window_phase"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="announcement_due",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} · window {self.window_id} ({self.status})"


class AuditAction(models.TextChoices):
    WINDOW_CREATED = "window_created", _("Window added")
    WINDOW_CHANGED = "window_changed", _("Window changed")
    WINDOW_CANCELLED = "window_cancelled", _("Window cancelled")
    ANNOUNCEMENT_RETRIED = "announcement_retried", _("Announcement sent again")
    SCHEDULE_CHANGED = "schedule_changed", _("Schedule changed")


class WindowAuditEntry(ActorAuditEntry):
    """Who changed maintenance, when, and from what to what.

    Written by ``services`` in the transaction of the change; read-only in the
    admin. ``actor`` is empty for the command line (``manage.py maintenance``).
    ``changes`` maps each changed field to its ``[old, new]`` values as text.
    """

    window = models.ForeignKey(
        MaintenanceWindow,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    schedule = models.ForeignKey(
        MaintenanceSchedule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    action = models.CharField(max_length=30, choices=AuditAction.choices)

    class Meta(ActorAuditEntry.Meta):
        verbose_name_plural = _("window audit entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(window__isnull=False) | Q(schedule__isnull=False),
                name="window_audit_names_what_changed",
            ),
        ]
