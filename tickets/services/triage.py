"""An engineer's triage: a reply and field changes applied all or nothing."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from scalr_support.accounts.models import User

from .. import events
from ..choices import CommentSource
from ..models import Ticket
from .base import durable, refresh, require_staff
from .comments import comment_create
from .fields import (
    ticket_assign_within,
    ticket_category_change_within,
    ticket_priority_change_within,
    ticket_scope_set_within,
    ticket_status_change_within,
)

TRIAGE_FIELDS = frozenset(
    {"status", "priority", "assignee", "category", "scope_exclusion"}
)


@dataclass(frozen=True)
class SessionRequestInput:
    """A real-time session asked for with a triage (``sessions.session_request``)."""

    proposed_at: datetime
    link: str = ""
    note: str = ""


@dataclass(frozen=True)
class TriageInput:
    """What an engineer submits from the admin ticket page (or the API) in one go.

    ``changed`` names the fields the engineer means to change (``status``,
    ``priority``, ``assignee``, ``category``, ``scope_exclusion``); the others keep
    the values they have when the ticket is locked, so a concurrent change of
    another field is never undone by values read earlier. None: every field, as
    submitted. ``scope_exclusion`` None leaves the scope alone; ``session`` asks
    the customer for a real-time session.
    """

    status: str
    priority: int
    priority_change_reason: str = ""
    assignee: User | None = None
    category: str = ""
    reply: str = ""
    reply_is_public: bool = True
    changed: frozenset[str] | None = None
    scope_exclusion: str | None = None
    session: SessionRequestInput | None = None

    def sets(self, field: str) -> bool:
        return self.changed is None or field in self.changed


def _fields_apply(current: Ticket, actor: User, changes: TriageInput) -> None:
    """The triage's priority, assignee, category and scope, each if it changes."""
    if changes.sets("priority") and changes.priority != current.priority:
        ticket_priority_change_within(
            ticket=current,
            actor=actor,
            priority=changes.priority,
            reason=changes.priority_change_reason,
        )
    if changes.sets("assignee") and changes.assignee != current.assignee:
        ticket_assign_within(ticket=current, actor=actor, assignee=changes.assignee)
    if (
        changes.sets("category")
        and changes.category
        and changes.category != current.category
    ):
        ticket_category_change_within(
            ticket=current, actor=actor, category=changes.category
        )
    if (
        changes.scope_exclusion is not None
        and changes.sets("scope_exclusion")
        and changes.scope_exclusion != current.scope_exclusion
    ):
        ticket_scope_set_within(
            ticket=current, actor=actor, scope_exclusion=changes.scope_exclusion
        )


def ticket_triage_within(
    *,
    ticket: Ticket,
    actor: User,
    changes: TriageInput,
    files: Sequence[UploadedFile] = (),
) -> Ticket:
    """Apply a reply, field changes, scope and a session request: all or nothing.

    One transaction: when any step refuses (an oversize file, a bad session time,
    a missing reason) nothing of the triage is kept, no mail is queued, and the
    caller shows the error with everything the engineer typed. The reply and the
    session request go before the status, so that an explicit status chosen with
    them wins over the status a public reply alone would set.
    """
    from .. import sessions  # sessions builds on this package

    require_staff(actor)
    # One save is one email per recipient, however many steps it takes.
    with transaction.atomic(), events.batch():
        current = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if changes.reply.strip() or files:
            comment_create(
                ticket=current,
                author=actor,
                body=changes.reply,
                is_public=changes.reply_is_public,
                source=CommentSource.ADMIN,
                files=files,
            )
        _fields_apply(current, actor, changes)
        if changes.session is not None:
            sessions.session_request(
                ticket=current,
                actor=actor,
                proposed_at=changes.session.proposed_at,
                link=changes.session.link,
                note=changes.session.note,
            )
            current.refresh_from_db()
        status_chosen = (
            changes.status != ticket.status
            if changes.changed is None
            else "status" in changes.changed
        )
        if status_chosen and changes.status != current.status:
            ticket_status_change_within(
                ticket=current, actor=actor, status=changes.status
            )
    refresh(ticket, current)
    return current


ticket_triage = durable(ticket_triage_within)
