"""Every write to tickets, comments and attachments.

Each function is one user-visible action: it checks the business rules, writes in
one transaction (row-locking the ticket for read-modify-write) and leaves side
effects to ``transaction.on_commit``. The top-level ones run in a durable
transaction (``base.durable``); a ``*_within`` twin joins the caller's, for a
triage, a bulk action or the admin's form that already holds one. The modules
hold one kind of action each; callers import them from here
(``from tickets import services``).
"""

# The refusals the services raise, as ``services.ValidationFailed`` etc.
from scalr_support.common.errors import InvalidTransition, NotAllowed, ValidationFailed

from .base import AUDIT_ASSIGNEE, AUDIT_CATEGORY, AUDIT_SCOPE, AUDIT_STATUS
from .comments import Reply, comment_create, replies_create
from .contacts import contact_notifications_set
from .creation import SUBJECT_MAX_LENGTH, TicketInput, ticket_create
from .fields import (
    CUSTOMER_STATUS_MOVES,
    ticket_assign,
    ticket_assign_within,
    ticket_category_change,
    ticket_category_change_within,
    ticket_priority_change,
    ticket_priority_change_within,
    ticket_scope_set,
    ticket_scope_set_within,
    ticket_status_change,
    ticket_status_change_within,
    tickets_close_solved,
)
from .files import (
    ORPHAN_BATCH,
    ORPHAN_MIN_AGE,
    attachment_add,
    attachment_orphans_sweep,
)
from .triage import (
    TRIAGE_FIELDS,
    SessionRequestInput,
    TriageInput,
    ticket_triage,
    ticket_triage_within,
)

__all__ = [
    "AUDIT_ASSIGNEE",
    "AUDIT_CATEGORY",
    "AUDIT_SCOPE",
    "AUDIT_STATUS",
    "CUSTOMER_STATUS_MOVES",
    "ORPHAN_BATCH",
    "ORPHAN_MIN_AGE",
    "SUBJECT_MAX_LENGTH",
    "TRIAGE_FIELDS",
    "InvalidTransition",
    "NotAllowed",
    "Reply",
    "SessionRequestInput",
    "TicketInput",
    "TriageInput",
    "ValidationFailed",
    "attachment_add",
    "attachment_orphans_sweep",
    "comment_create",
    "contact_notifications_set",
    "replies_create",
    "ticket_assign",
    "ticket_assign_within",
    "ticket_category_change",
    "ticket_category_change_within",
    "ticket_create",
    "ticket_priority_change",
    "ticket_priority_change_within",
    "ticket_scope_set",
    "ticket_scope_set_within",
    "ticket_status_change",
    "ticket_status_change_within",
    "ticket_triage",
    "ticket_triage_within",
    "tickets_close_solved",
]
