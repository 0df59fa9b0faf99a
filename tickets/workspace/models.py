"""What the workspace stores: canned replies, saved queue views and an audit trail.

Imported by ``tickets.models`` so that they belong to the ``tickets`` app.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import Priority, Status


class AssigneeAction(models.TextChoices):
    KEEP = "", _("Leave the assignee")
    SELF = "self", _("Assign to whoever applies it")
    UNASSIGN = "unassign", _("Unassign")
    USER = "user", _("Assign to the person below")


class PersonalOrShared(models.Model):
    """Owned by one engineer, or shared with everyone when it has no owner."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: shared with everyone (managers only)."),
        limit_choices_to={"is_staff": True},
    )

    class Meta:
        abstract = True

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None


class Macro(PersonalOrShared):
    """A canned reply an engineer inserts into the reply box, with optional actions.

    Personal when it has an owner, shared with every engineer when it has none;
    only managers (``tickets.share_macro``) create or edit shared ones. The text
    may hold the placeholders of ``tickets.workspace.macros.PLACEHOLDERS`` and
    nothing else: it is never run through a template engine.
    """

    title = models.CharField(max_length=100)
    body = models.TextField(
        help_text=_(
            "Markdown. Placeholders: {{ contact.first_name }}, {{ contact.name }}, "
            "{{ ticket.number }}, {{ ticket.subject }}, {{ organization.name }}, "
            "{{ agent.first_name }}, {{ agent.name }}."
        )
    )
    is_internal = models.BooleanField(
        _("internal note"),
        default=False,
        help_text=_("Insert as an internal note instead of a public reply."),
    )
    set_status = models.CharField(
        max_length=20, choices=Status.choices, blank=True, help_text=_("Optional.")
    )
    set_priority = models.PositiveSmallIntegerField(
        choices=Priority.choices, null=True, blank=True, help_text=_("Optional.")
    )
    priority_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Required with a priority; the customer sees it."),
    )
    assignee_action = models.CharField(
        max_length=10, choices=AssigneeAction.choices, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_staff": True, "is_active": True},
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(PersonalOrShared.Meta):
        ordering = ("title", "id")
        permissions = [("share_macro", _("Can manage shared macros"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(set_priority__isnull=True) | ~Q(priority_reason=""),
                name="macro_priority_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SavedView(PersonalOrShared):
    """A named queue filter: personal, or shared with everyone by a manager.

    ``query`` is the queue's own query string (tab, search, filters), so a saved
    view is exactly what its author saw; the queue parses it like any request.
    """

    name = models.CharField(max_length=60)
    query = models.CharField(max_length=500)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(PersonalOrShared.Meta):
        ordering = ("position", "name", "id")
        permissions = [("share_savedview", _("Can manage shared saved views"))]

    def __str__(self) -> str:
        return self.name


class AuditAction(models.TextChoices):
    STATUS = "status", _("Status changed")
    ASSIGNEE = "assignee", _("Assignee changed")
    PRIORITY = "priority", _("Priority changed")
    CATEGORY = "category", _("Category changed")
    SCOPE = "scope", _("Scope changed")
    NOTE = "note", _("Internal note added")


class TicketAudit(models.Model):
    """One change to a ticket, who made it and when.

    Written in the transaction of the change itself (``tickets.workspace.audit``):
    status and assignee changes by ``tickets.services`` whichever way they came
    (portal, API, email, admin), the other fields by the workspace. A bulk action
    writes one row per ticket, sharing its ``batch``. The ticket page shows status,
    assignee and scope changes from here in the thread.
    """

    kind = "audit"  # thread entry type, for templates

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="audit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    batch = models.UUIDField(null=True, blank=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="audit_ticket"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.action}: {self.from_value} → {self.to_value}"


def new_batch() -> uuid.UUID:
    return uuid.uuid4()
