"""A ticket's thread: comments, attachments and priority changes."""

import uuid
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as timezone_now
from django.utils.translation import gettext_lazy as _

from ..choices import CommentSource, Priority
from .ticket import Ticket

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from scalr_support.accounts.models import User


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


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    """Store under a server-generated name; the customer's name is kept in a field."""
    suffix = PurePath(filename).suffix.lower()[:10]
    safe_suffix = suffix if suffix[1:].isalnum() else ""
    return f"attachments/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{safe_suffix}"


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
        from ..thumbnails import is_image

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
