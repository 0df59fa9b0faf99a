"""Customers, their tiers, and the tickets they file."""

import uuid
import zoneinfo
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import Category, CommentSource, Deployment, Priority, Status


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known IANA timezone."), params={"value": value}
        )


class SupportTier(models.Model):
    """A support plan and what it entitles an organisation to.

    Code asks the tier what it allows; it never compares a tier's name.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=50)
    position = models.PositiveSmallIntegerField(default=0)
    response_summary = models.CharField(
        max_length=100, help_text=_("e.g. 'Priority based - 24x7' or 'Best efforts'.")
    )
    guaranteed_response = models.BooleanField(
        default=False,
        help_text=_("Whether response targets are commitments (else best effort)."),
    )
    realtime_sessions = models.BooleanField(
        default=False, help_text=_("Real-time video sessions when support asks.")
    )
    realtime_max_priority = models.PositiveSmallIntegerField(
        choices=Priority.choices,
        default=Priority.MINOR,
        help_text=_(
            "Real-time sessions are offered for this priority and more urgent."
        ),
    )
    community_slack = models.BooleanField(
        default=False, help_text=_("Access to the Scalr community Slack channel.")
    )

    class Meta:
        ordering = ("position", "name")

    def __str__(self) -> str:
        return self.name

    def allows_realtime_session(self, priority: int) -> bool:
        return self.realtime_sessions and priority <= self.realtime_max_priority


class Organization(models.Model):
    """A customer account."""

    name = models.CharField(max_length=200, unique=True)
    tier = models.ForeignKey(SupportTier, on_delete=models.PROTECT, related_name="+")
    deployment = models.CharField(
        max_length=10, choices=Deployment.choices, default=Deployment.SAAS
    )
    scalr_version = models.CharField(max_length=40, blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A user's membership of one customer organisation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    is_technical_contact = models.BooleanField(
        _("technical contact"),
        default=False,
        help_text=_(
            "Technical contacts are the liaisons with Scalr and may open tickets."
        ),
    )
    training_completed = models.BooleanField(
        _("introductory training completed"), default=False
    )
    notify_organization_tickets = models.BooleanField(
        default=True,
        help_text=_("Email about the organisation's tickets, not only one's own."),
    )

    class Meta:
        ordering = ("organization", "user__email")

    def __str__(self) -> str:
        return f"{self.user} ({self.organization})"


class TicketCounter(models.Model):
    """The last ticket number handed out.

    One row, incremented inside the creating transaction: numbers are sequential and
    gapless because a rolled-back ticket gives its number back.
    """

    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    """Store under a server-generated name; the customer's name is kept in a field."""
    suffix = PurePath(filename).suffix.lower()[:10]
    safe_suffix = suffix if suffix[1:].isalnum() else ""
    return f"attachments/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{safe_suffix}"


class Ticket(models.Model):
    number = models.PositiveIntegerField(unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="tickets"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    subject = models.CharField(max_length=200)
    description = models.TextField()
    description_html = models.TextField(editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    category = models.CharField(max_length=20, choices=Category.choices)
    deployment = models.CharField(max_length=10, choices=Deployment.choices)
    version_reported = models.CharField(max_length=40, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        limit_choices_to={"is_staff": True},
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(db_index=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-last_activity_at",)
        indexes = [
            models.Index(
                fields=["organization", "-last_activity_at"], name="ticket_org_activity"
            ),
            models.Index(fields=["priority", "created_at"], name="ticket_queue"),
            models.Index(
                fields=["solved_at"],
                name="ticket_solved_pending_close",
                condition=Q(status="solved"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=0, priority__lte=4),
                name="ticket_priority_0_4",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def reference(self) -> str:
        return f"#{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.SOLVED, Status.CLOSED)


class Comment(models.Model):
    kind = "comment"  # thread entry type, for templates

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    body_html = models.TextField(editable=False)
    is_public = models.BooleanField(
        default=True, help_text=_("Internal notes are never shown to customers.")
    )
    source = models.CharField(max_length=10, choices=CommentSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="comment_thread")]

    def __str__(self) -> str:
        kind = "reply" if self.is_public else "internal note"
        return f"{kind} on #{self.ticket.number}"

    @property
    def is_internal(self) -> bool:
        return not self.is_public


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments"
    )
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(upload_to=attachment_upload_to, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.filename


class PriorityChange(models.Model):
    """Support re-prioritised a ticket; the customer sees the reason."""

    kind = "priority_change"  # thread entry type, for templates

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="priority_changes"
    )
    from_priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    to_priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="priority_change_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket.number}: P{self.from_priority} → P{self.to_priority}"

    @property
    def direction(self) -> str:
        return "raised" if self.to_priority < self.from_priority else "lowered"
