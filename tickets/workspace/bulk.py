"""Bulk actions of the queue: one service call and one audit row per ticket.

Each ticket is changed in its own transaction through the same service a single
change uses (``tickets.services``), so the rules, the SLA clocks and the
notifications are the same as on the ticket page; a ticket the rule refuses is
reported and the others still change. Every changed ticket gets a
``TicketAudit`` row sharing the action's ``batch``.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scalr_support.accounts.models import User
from scalr_support.common.errors import NotAllowed, ServiceError, ValidationFailed

from .. import services
from ..choices import CommentSource, Priority, Status
from ..models import Ticket
from .audit import (
    AUDITED_FIELDS,
    SERVICE_AUDITED,
    audit_differences,
    audit_note,
    batch_of,
    snapshot,
)
from .models import new_batch
from .queues import is_number

logger = logging.getLogger(__name__)

BULK_MAX = 200

ACTIONS: dict[str, object] = {
    "assign": gettext_lazy("Assign to"),
    "status": gettext_lazy("Change status"),
    "priority": gettext_lazy("Change priority"),
    "note": gettext_lazy("Add an internal note"),
}


@dataclass(frozen=True)
class BulkChange:
    """What to do to every selected ticket.

    ``value``: the assignee's id ("" to unassign), the status or the priority;
    ``text``: the priority's reason or the note.
    """

    action: str
    value: str = ""
    text: str = ""


@dataclass
class BulkResult:
    changed: list[Ticket] = field(default_factory=list)
    unchanged: list[Ticket] = field(default_factory=list)
    refused: list[tuple[Ticket, str]] = field(default_factory=list)


def bulk_change_check(change: BulkChange) -> User | None:
    """Refuse a bulk change that no ticket could take; return the assignee if any.

    Called before the confirmation step too, so a missing reason is reported
    before the engineer confirms anything.
    """
    text = change.text.strip()
    if change.action == "assign":
        if not change.value:
            return None
        assignee = User.objects.filter(
            pk=int(change.value) if is_number(change.value) else 0,
            is_staff=True,
            is_active=True,
        ).first()
        if assignee is None:
            raise ValidationFailed(
                _("Tickets can only be assigned to support staff."), field="value"
            )
        return assignee
    if change.action == "status":
        if change.value not in Status.values:
            raise ValidationFailed(_("Choose a status."), field="value")
    elif change.action == "priority":
        if change.value not in {str(p) for p in Priority.values}:
            raise ValidationFailed(_("Choose a priority from 0 to 4."), field="value")
        if not text:
            raise ValidationFailed(
                _("Say why the priority changes; the customers will see the reason."),
                field="text",
            )
    elif change.action == "note":
        if not text:
            raise ValidationFailed(_("Write the internal note."), field="text")
    else:
        raise ValidationFailed(_("Choose an action."), field="action")
    return None


def _apply_one(
    ticket: Ticket, actor: User, change: BulkChange, assignee: User | None
) -> bool:
    """Change one locked ticket; False when it already is as asked."""
    if change.action == "assign":
        if ticket.assignee_id == (assignee.pk if assignee else None):
            return False
        services.ticket_assign_within(ticket=ticket, actor=actor, assignee=assignee)
    elif change.action == "status":
        if ticket.status == change.value:
            return False
        services.ticket_status_change_within(
            ticket=ticket, actor=actor, status=change.value
        )
    elif change.action == "priority":
        if ticket.priority == int(change.value):
            return False
        services.ticket_priority_change_within(
            ticket=ticket, actor=actor, priority=int(change.value), reason=change.text
        )
    else:
        services.comment_create(
            ticket=ticket,
            author=actor,
            body=change.text,
            is_public=False,
            source=CommentSource.ADMIN,
            ticket_locked=True,
        )
    return True


def _change_one(
    pk: int,
    *,
    actor: User,
    change: BulkChange,
    assignee: User | None,
    batch: uuid.UUID,
    result: BulkResult,
) -> None:
    """Apply the change to one ticket in its own transaction; record the outcome.

    The ticket is added to ``result`` as changed, unchanged or refused; a
    ticket that no longer exists is left out. A refusal rolls back only this
    ticket's transaction.
    """
    ticket: Ticket | None = None
    try:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update(of=("self",))
                .select_related("organization__tier")
                .filter(pk=pk)
                .first()
            )
            if ticket is None:
                return
            before = snapshot(ticket)
            with batch_of(batch):
                applied = _apply_one(ticket, actor, change, assignee)
            if not applied:
                result.unchanged.append(ticket)
                return
            if change.action == "note":
                audit_note(ticket=ticket, actor=actor, batch=batch)
            else:
                audit_differences(
                    before=before,
                    after=ticket,
                    actor=actor,
                    batch=batch,
                    actions=frozenset(AUDITED_FIELDS) - SERVICE_AUDITED,
                )
    except ServiceError as error:
        if ticket is not None:
            result.refused.append((ticket, error.message))
    else:
        if ticket is not None:
            result.changed.append(ticket)


def tickets_bulk_change(
    *, actor: User, ticket_ids: Sequence[int], change: BulkChange
) -> BulkResult:
    """Apply one change to many tickets, each in its own transaction with its audit.

    A ticket the services refuse (``ServiceError``) is listed in ``refused`` and
    left as it was; one that already has the value is ``unchanged`` (no audit
    row). Not idempotent as a whole (a note added twice is two notes), which is
    why the queue asks for confirmation first.
    """
    if not actor.is_staff:
        raise NotAllowed(_("Only support staff can do this."))
    if not ticket_ids:
        raise ValidationFailed(_("Select at least one ticket."), field="tickets")
    if len(ticket_ids) > BULK_MAX:
        raise ValidationFailed(
            _("Select at most %(n)d tickets at a time.") % {"n": BULK_MAX},
            field="tickets",
        )
    assignee = bulk_change_check(change)
    batch = new_batch()
    result = BulkResult()
    for pk in sorted(set(ticket_ids)):
        _change_one(
            pk,
            actor=actor,
            change=change,
            assignee=assignee,
            batch=batch,
            result=result,
        )
    logger.info(
        "bulk %s by user %s: %s changed, %s unchanged, %s refused",
        change.action,
        actor.pk,
        len(result.changed),
        len(result.unchanged),
        len(result.refused),
    )
    return result
