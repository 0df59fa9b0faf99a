"""The workspace's audit rows: who changed what on a ticket, written with the change."""

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import transaction

from scalr_support.accounts.models import User

from ..models import Ticket
from .models import AuditAction, TicketAudit

# The fields the ticket page and the bulk actions audit, by their audit action.
AUDITED_FIELDS: dict[str, str] = {
    AuditAction.STATUS: "status",
    AuditAction.ASSIGNEE: "assignee_id",
    AuditAction.CATEGORY: "category",
    AuditAction.SCOPE: "scope_exclusion",
    AuditAction.PRIORITY: "priority",
}


# The bulk action in progress: rows the services write during it share its batch.
_current_batch: ContextVar[uuid.UUID | None] = ContextVar("audit_batch", default=None)


@contextlib.contextmanager
def batch_of(batch: uuid.UUID) -> Iterator[None]:
    """Give the audit rows written inside (by the services too) one bulk ``batch``."""
    token = _current_batch.set(batch)
    try:
        yield
    finally:
        _current_batch.reset(token)


# Recorded by ``tickets.services`` itself, whichever way the change came (API,
# portal, email, admin, bulk): the workspace does not record these again.
SERVICE_AUDITED = frozenset(
    {AuditAction.STATUS, AuditAction.ASSIGNEE, AuditAction.CATEGORY, AuditAction.SCOPE}
)


def _shown(ticket: Ticket, field: str, people: dict[int, User]) -> str:
    """A field's value as a person reads it (labels, names), for the audit row."""
    value = getattr(ticket, field)
    if field == "assignee_id":
        return people[value].display_name if value in people else ""
    display = getattr(ticket, f"get_{field}_display", None)
    return str(display()) if display and value not in ("", None) else str(value or "")


def audit_rows(
    before: Ticket, after: Ticket, actor: User, actions: frozenset[str]
) -> list[TicketAudit]:
    """The unsaved rows for each audited field that differs between two states.

    For a caller that changes many tickets and saves all their rows at once
    (``audit_save``); the others use ``audit_differences``.
    """
    changed = [
        action
        for action, field in AUDITED_FIELDS.items()
        if action in actions and getattr(before, field) != getattr(after, field)
    ]
    if not changed:
        return []
    people = (
        User.objects.in_bulk(
            {before.assignee_id, after.assignee_id} - {None}  # type: ignore[arg-type]
        )
        if AuditAction.ASSIGNEE in changed
        else {}
    )
    return [
        TicketAudit(
            ticket_id=after.pk,
            actor=actor,
            action=action,
            from_value=_shown(before, AUDITED_FIELDS[action], people)[:200],
            to_value=_shown(after, AUDITED_FIELDS[action], people)[:200],
            batch=_current_batch.get(),
        )
        for action in changed
    ]


def audit_save(rows: list[TicketAudit]) -> list[TicketAudit]:
    """Save audit rows in one statement, inside the transaction of their change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit rows are written in the change's transaction")
    return TicketAudit.objects.bulk_create(rows) if rows else []


def audit_differences(
    *,
    before: Ticket,
    after: Ticket,
    actor: User,
    batch: uuid.UUID | None = None,
    actions: frozenset[str] = frozenset(AUDITED_FIELDS),
) -> list[TicketAudit]:
    """Record one row per audited field that differs between two states of a ticket.

    Call inside the transaction that made the change, so the rows commit (or roll
    back) with it.
    """
    rows = audit_rows(before, after, actor, actions)
    for row in rows:
        row.batch = batch or row.batch
    return audit_save(rows)


def audit_note(*, ticket: Ticket, actor: User, batch: uuid.UUID | None) -> TicketAudit:
    """Record that an internal note was added (the note itself is the comment)."""
    return TicketAudit.objects.create(
        ticket=ticket, actor=actor, action=AuditAction.NOTE, batch=batch
    )


def snapshot(ticket: Ticket) -> Ticket:
    """A detached copy of the audited fields, to compare with after a change."""
    copy = Ticket(pk=ticket.pk)
    for field in AUDITED_FIELDS.values():
        setattr(copy, field, getattr(ticket, field))
    return copy
