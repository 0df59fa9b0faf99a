"""Customers, their tiers, and the tickets they file."""

import uuid
import zoneinfo
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as timezone_now
from django.utils.translation import gettext_lazy as _

from .choices import (
    Category,
    CommentSource,
    ConferencingProvider,
    Deployment,
    Priority,
    ScopeExclusion,
    SessionStatus,
    Status,
)
from .sla_state import sla_state as state_from_clock

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from scalr_support.accounts.models import User


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
    max_technical_contacts = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "How many technical contacts an organisation on this tier may name "
            "(empty: no limit)."
        ),
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
    business_calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Working hours for business-hours targets; empty uses the default "
            "calendar. Applies to response clocks started after the change."
        ),
    )
    prefers_own_conferencing = models.BooleanField(
        _("prefers its own video conferencing"),
        default=False,
        help_text=_(
            "Real-time sessions use the organisation's own conferencing system "
            "instead of Zoom."
        ),
    )
    conferencing_link = models.CharField(
        max_length=500,
        blank=True,
        validators=[URLValidator(schemes=["https", "http"])],
        help_text=_("The organisation's own meeting link, if it has a standing one."),
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
    is_organization_admin = models.BooleanField(
        _("organisation admin"),
        default=False,
        help_text=_(
            "Organisation admins invite and deactivate colleagues and choose the "
            "technical contacts."
        ),
    )
    training_completed = models.BooleanField(
        _("introductory training completed"), default=False
    )
    notify_organization_tickets = models.BooleanField(
        default=True,
        help_text=_("Email about the organisation's tickets, not only one's own."),
    )
    maintenance_reminders = models.BooleanField(
        default=False,
        help_text=_("Email the day before each maintenance window."),
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
    follow_up_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        help_text=_("The closed ticket this one continues."),
    )
    # SLA, denormalised from the ticket's response clocks by sla.services only (in
    # the same transaction) so that the queue and the API read one row.
    first_response_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_responded_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_best_effort = models.BooleanField(default=False, editable=False)
    sla_breached = models.BooleanField(default=False, editable=False)
    email_message_id = models.CharField(
        max_length=998,
        blank=True,
        help_text=_("Message-ID of the email that opened this ticket."),
    )
    scope_exclusion = models.CharField(
        _("outside the support scope"),
        max_length=20,
        choices=ScopeExclusion.choices,
        blank=True,
        help_text=_(
            "Set when the ticket concerns something the policy does not cover; "
            "the customer sees the policy's reason."
        ),
    )
    # The last day the reported version's major release is supported (empty while
    # it is current or unknown); kept up to date by tickets.lifecycle when
    # releases change, so the queue and the ticket page need no extra query.
    version_support_ends_on = models.DateField(
        null=True, blank=True, editable=False, db_index=True
    )

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
            models.Index(
                fields=["priority", "sla_best_effort", "sla_due_at"],
                name="ticket_sla_queue",
            ),
            # The workspace's open tabs (tickets.workspace.queues): a few thousand
            # open tickets among all the solved and closed ones.
            models.Index(
                fields=["priority", "sla_best_effort", "sla_due_at"],
                name="ticket_open_queue",
                condition=Q(
                    status__in=["new", "open", "waiting_on_customer", "on_hold"]
                ),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=0, priority__lte=4),
                name="ticket_priority_0_4",
            ),
            # However often an email is delivered, it opens one ticket.
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="one_ticket_per_email",
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

    def sla_state_at(self, now: datetime) -> str | None:
        """Return on_track, at_risk, breached, met or best_effort (None: no clock)."""
        return state_from_clock(
            now=now,
            has_clock=self.first_response_due_at is not None,
            best_effort=self.sla_best_effort,
            breached=self.sla_breached,
            due_at=self.sla_due_at,
            at_risk_at=self.sla_at_risk_at,
        )

    @property
    def sla_state(self) -> str | None:
        return self.sla_state_at(timezone_now())


class CommentQuerySet(models.QuerySet["Comment"]):
    def readable_by(self, user: "User | AnonymousUser") -> "CommentQuerySet":
        """The comments ``user`` may read: customers never see internal notes."""
        return self if user.is_staff else self.public()

    def public(self) -> "CommentQuerySet":
        return self.filter(is_public=True)


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def readable_by(self, user: "User | AnonymousUser") -> "AttachmentQuerySet":
        """The files ``user`` may download: internal notes' stay with support."""
        if user.is_staff:
            return self
        return self.filter(Q(comment__isnull=True) | Q(comment__is_public=True))


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
    email_message_id = models.CharField(
        max_length=998,
        blank=True,
        help_text=_("Message-ID of the email this comment came from."),
    )
    # A default rather than auto_now_add, which a bulk insert would overwrite: the
    # email gateway gives a batch of replies one time (tickets.services).
    created_at = models.DateTimeField(default=timezone_now, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="comment_thread")]
        constraints = [
            # However often an email is delivered, it becomes one comment.
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="one_comment_per_email",
            ),
        ]

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

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        """Whether the portal shows a preview (tickets.thumbnails)."""
        from .thumbnails import is_image

        return is_image(self.filename)


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


class Release(models.Model):
    """A Scalr release; which versions are supported is computed from these.

    Recorded by managers in the admin. The lifecycle (``tickets.lifecycle``) takes
    a major's release date to be the date of its first release.
    """

    version = models.CharField(max_length=40, unique=True)
    major = models.PositiveIntegerField()
    released_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-released_on", "-major", "-version")

    def __str__(self) -> str:
        return self.version

    def clean(self) -> None:
        from .lifecycle import major_of

        if self.version and major_of(self.version) != self.major:
            raise ValidationError(
                {"major": _("The version's first number is its major release.")}
            )


class SupportSession(models.Model):
    """A real-time video session support asked for on a ticket.

    Offered by support only (Business tier, P0-P3) as a public reply (``comment``)
    that carries it in the thread; the customer accepts it or proposes another
    time from the portal.
    """

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="sessions"
    )
    comment = models.OneToOneField(
        Comment, on_delete=models.CASCADE, related_name="session"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.CharField(max_length=10, choices=ConferencingProvider.choices)
    link = models.URLField(max_length=500)
    proposed_at = models.DateTimeField()
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.PROPOSED
    )
    customer_proposed_at = models.DateTimeField(null=True, blank=True)
    customer_note = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["ticket", "created_at"], name="session_ticket")]

    def __str__(self) -> str:
        return f"session on #{self.ticket.number} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status != SessionStatus.ACCEPTED


# Registered with the tickets app by being imported here.
from .customer_models import (  # noqa: E402, F401
    Invitation,
    OrganizationAuditEntry,
    SatisfactionRating,
    TicketFollower,
)

# The workspace models (canned replies, saved views, audit) live in their package.
from .workspace.models import Macro, SavedView, TicketAudit  # noqa: E402, F401
