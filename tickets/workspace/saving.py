"""The ticket page's save: the triage, the scope and a session offer, all or nothing."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from scalr_support.accounts.models import User

from .. import services, sessions
from ..models import Ticket
from .audit import AUDITED_FIELDS, SERVICE_AUDITED, audit_differences, snapshot
from .models import AuditAction

# The priority's own row (PriorityChange) is its audit; the services record the
# status and assignee changes.
PAGE_AUDITED = frozenset(AUDITED_FIELDS) - {AuditAction.PRIORITY} - SERVICE_AUDITED


@dataclass(frozen=True)
class SessionOffer:
    proposed_at: datetime
    link: str = ""
    note: str = ""


def ticket_page_save(
    *,
    ticket: Ticket,
    actor: User,
    changes: services.TriageInput,
    scope_exclusion: str | None = None,
    session: SessionOffer | None = None,
    files: Sequence[UploadedFile] = (),
) -> Ticket:
    """Apply what the engineer submitted from the ticket page, in one transaction.

    The reply and the fields go through ``services.ticket_triage``; the scope
    mark and a real-time session offer through their own services in the same
    transaction, so a refusal of any part (a ``ServiceError``) leaves the ticket
    exactly as it was. Status, assignee, category and scope changes, including
    the status a reply moved, get a ``TicketAudit`` row each.
    """
    with transaction.atomic(durable=True):
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("organization__tier")
            .get(pk=ticket.pk)
        )
        before = snapshot(locked)
        services.ticket_triage_within(
            ticket=locked, actor=actor, changes=changes, files=files
        )
        if scope_exclusion is not None and scope_exclusion != locked.scope_exclusion:
            services.ticket_scope_set_within(
                ticket=locked, actor=actor, scope_exclusion=scope_exclusion
            )
        if session is not None:
            sessions.session_request(
                ticket=locked,
                actor=actor,
                proposed_at=session.proposed_at,
                link=session.link,
                note=session.note,
            )
            locked.refresh_from_db(fields=["status", "updated_at", "last_activity_at"])
        audit_differences(
            before=before, after=locked, actor=actor, actions=PAGE_AUDITED
        )
    return locked
