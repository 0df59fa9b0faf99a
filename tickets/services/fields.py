"""One person changes one field of a ticket: status, priority, assignee, category,
scope. And the sweep that closes solved tickets.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import InvalidTransition, ValidationFailed

from .. import events
from ..choices import (
    Category,
    Priority,
    ScopeExclusion,
    Status,
)
from ..models import PriorityChange, Ticket
from ..workspace import audit as workspace_audit
from .base import (
    AUDIT_ASSIGNEE,
    AUDIT_CATEGORY,
    AUDIT_SCOPE,
    AUDIT_STATUS,
    apply_status,
    durable,
    refresh,
    require_staff,
)

logger = logging.getLogger(__name__)


CUSTOMER_STATUS_MOVES: dict[str, frozenset[str]] = {
    Status.SOLVED: frozenset(
        {Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.ON_HOLD}
    ),
    Status.OPEN: frozenset({Status.SOLVED}),
}


def ticket_status_change_within(*, ticket: Ticket, actor: User, status: str) -> Ticket:
    """Change the status; customers may only mark solved or reopen a solved ticket."""
    if status not in Status.values:
        raise ValidationFailed(_("Unknown status."), field="status")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status == status:
            return locked
        if not actor.is_staff and locked.status not in CUSTOMER_STATUS_MOVES.get(
            status, frozenset()
        ):
            if locked.status == Status.CLOSED:
                raise InvalidTransition(
                    _("This ticket is closed. Open a new ticket to continue.")
                )
            raise InvalidTransition(
                _("A %(old)s ticket cannot be set to %(new)s.")
                % {"old": locked.get_status_display(), "new": Status(status).label}
            )
        now = timezone.now()
        fields = ["updated_at", "last_activity_at"]
        locked.last_activity_at = now
        before = workspace_audit.snapshot(locked)
        apply_status(locked, status, now, fields)
        locked.save(update_fields=fields)
        workspace_audit.audit_differences(
            before=before, after=locked, actor=actor, actions=AUDIT_STATUS
        )
        events.publish(events.StatusChanged(ticket=locked, by_user_id=actor.pk))
    refresh(ticket, locked)
    return locked


ticket_status_change = durable(ticket_status_change_within)


def ticket_priority_change_within(
    *, ticket: Ticket, actor: User, priority: int, reason: str
) -> PriorityChange:
    """Re-prioritise, up or down, with a reason the customer sees in the thread."""
    require_staff(actor)
    reason = reason.strip()
    if priority not in Priority.values:
        raise ValidationFailed(_("Choose a priority from 0 to 4."), field="priority")
    if not reason:
        raise ValidationFailed(
            _("Say why the priority changes; the customer will see the reason."),
            field="priority_change_reason",
        )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.priority == priority:
            raise ValidationFailed(
                _("The ticket already has priority %(p)s.")
                % {"p": Priority(priority).label},
                field="priority",
            )
        change = PriorityChange.objects.create(
            ticket=locked,
            from_priority=locked.priority,
            to_priority=priority,
            changed_by=actor,
            reason=reason,
        )
        locked.priority = priority
        locked.last_activity_at = change.created_at
        locked.save(update_fields=["priority", "last_activity_at", "updated_at"])
        events.publish(events.PriorityChanged(change=change))
    refresh(ticket, locked)
    return change


ticket_priority_change = durable(ticket_priority_change_within)


def ticket_assign_within(
    *, ticket: Ticket, actor: User, assignee: User | None
) -> Ticket:
    """Give the ticket to a support engineer (or take it back into the queue)."""
    require_staff(actor)
    if assignee is not None and not (assignee.is_staff and assignee.is_active):
        raise ValidationFailed(
            _("Tickets can only be assigned to support staff."), field="assignee"
        )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = workspace_audit.snapshot(locked)
        locked.assignee = assignee
        locked.save(update_fields=["assignee", "updated_at"])
        workspace_audit.audit_differences(
            before=before, after=locked, actor=actor, actions=AUDIT_ASSIGNEE
        )
    refresh(ticket, locked)
    return locked


ticket_assign = durable(ticket_assign_within)


def _shown_field_set(
    *, ticket: Ticket, actor: User, field: str, value: str, audit: frozenset[str]
) -> Ticket:
    """Set a field the customer sees (so it is activity), with its audit row."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = workspace_audit.snapshot(locked)
        setattr(locked, field, value)
        locked.last_activity_at = timezone.now()
        locked.save(update_fields=[field, "last_activity_at", "updated_at"])
        workspace_audit.audit_differences(
            before=before, after=locked, actor=actor, actions=audit
        )
    return locked


def ticket_category_change_within(
    *, ticket: Ticket, actor: User, category: str
) -> Ticket:
    """Recategorise; the customer sees the category, the thread who changed it."""
    require_staff(actor)
    if category not in Category.values:
        raise ValidationFailed(_("Choose a category."), field="category")
    locked = _shown_field_set(
        ticket=ticket,
        actor=actor,
        field="category",
        value=category,
        audit=AUDIT_CATEGORY,
    )
    refresh(ticket, locked)
    return locked


ticket_category_change = durable(ticket_category_change_within)


def ticket_scope_set_within(
    *, ticket: Ticket, actor: User, scope_exclusion: str
) -> Ticket:
    """Mark (or clear) the ticket as outside the policy's scope; the customer sees why.

    ``scope_exclusion`` is a ``ScopeExclusion`` value, or "" to clear it.
    """
    require_staff(actor)
    if scope_exclusion and scope_exclusion not in ScopeExclusion.values:
        raise ValidationFailed(
            _("Choose a reason from the policy."), field="scope_exclusion"
        )
    locked = _shown_field_set(
        ticket=ticket,
        actor=actor,
        field="scope_exclusion",
        value=scope_exclusion,
        audit=AUDIT_SCOPE,
    )
    ticket.scope_exclusion = locked.scope_exclusion
    logger.info("ticket %s scope set to %r", locked.number, scope_exclusion or "-")
    return locked


ticket_scope_set = durable(ticket_scope_set_within)


def tickets_close_solved(*, now: datetime | None = None) -> int:
    """Close tickets solved more than TICKET_AUTO_CLOSE_DAYS ago.

    Idempotent: a second run finds nothing left to close.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TICKET_AUTO_CLOSE_DAYS)
    closed = Ticket.objects.filter(status=Status.SOLVED, solved_at__lt=cutoff).update(
        status=Status.CLOSED, closed_at=now, updated_at=now
    )
    if closed:
        logger.info("closed %s solved tickets", closed)
    return closed
