"""What the ticket write services share.

Who may act, the open transaction a batch write needs, the status fields a
status sets, and refreshing the caller's copy of a ticket after a write.
"""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import ParamSpec, TypeVar

from django.db import transaction
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import NotAllowed

from ..choices import Status
from ..models import Ticket
from ..sla_state import TICKET_SLA_FIELDS
from ..workspace.models import AuditAction

P = ParamSpec("P")
R = TypeVar("R")


def durable(within: Callable[P, R]) -> Callable[P, R]:
    """The top-level form of a write service: ``within`` in a durable transaction.

    ``within`` joins the caller's transaction (a triage, a bulk action, the
    admin's form); views, the API and tasks call the durable form, which refuses
    (RuntimeError) to run inside another transaction, so what it queues with
    ``on_commit`` runs as soon as it returns.
    """

    @functools.wraps(within)
    def outermost(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(durable=True):
            return within(*args, **kwargs)

    return outermost


def require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise NotAllowed(_("Only support staff can do this."))


def require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("the tickets' row locks ended with their transaction")


def apply_status(ticket: Ticket, status: str, now: datetime, fields: list[str]) -> None:
    ticket.status = status
    ticket.solved_at = now if status == Status.SOLVED else None
    ticket.closed_at = now if status == Status.CLOSED else None
    fields.extend(f for f in ("status", "solved_at", "closed_at") if f not in fields)


def refresh(target: Ticket, source: Ticket) -> None:
    """Copy the committed state onto the caller's instance so it does not go stale."""
    if target is source:
        return
    for field in (
        "status",
        "priority",
        "assignee_id",
        "category",
        "last_activity_at",
        "updated_at",
        "solved_at",
        "closed_at",
        *TICKET_SLA_FIELDS,
    ):
        setattr(target, field, getattr(source, field))
    if "assignee" in target._state.fields_cache:
        target._state.fields_cache.pop("assignee")


# Status, assignee, category and scope changes get a workspace audit row (who,
# from, to) in their own transaction, whichever way they came (portal, API,
# email, admin, workspace); the engineers' thread shows them.
AUDIT_STATUS = frozenset({AuditAction.STATUS})
AUDIT_ASSIGNEE = frozenset({AuditAction.ASSIGNEE})
AUDIT_CATEGORY = frozenset({AuditAction.CATEGORY})
AUDIT_SCOPE = frozenset({AuditAction.SCOPE})
