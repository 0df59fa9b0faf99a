"""Customers, their tiers, and the tickets they file.

One module per kind of record; ``from tickets.models import X`` imports them all
from here, and importing this package registers every model of the app.
"""

from .customers import Contact, Organization, SupportTier, validate_timezone
from .releases import Release
from .sessions import SupportSession
from .thread import (
    Attachment,
    AttachmentQuerySet,
    Comment,
    CommentQuerySet,
    PriorityChange,
    attachment_upload_to,
)
from .ticket import Ticket, TicketCounter

__all__ = [
    "Attachment",
    "AttachmentQuerySet",
    "Comment",
    "CommentQuerySet",
    "Contact",
    "Organization",
    "PriorityChange",
    "Release",
    "SupportSession",
    "SupportTier",
    "Ticket",
    "TicketCounter",
    "attachment_upload_to",
    "validate_timezone",
]

# Registered with the tickets app by being imported here.
from ..customer_models import (  # noqa: F401
    Invitation,
    OrganizationAuditEntry,
    SatisfactionRating,
    TicketFollower,
)

# The workspace models (canned replies, saved views, audit) live in their package.
from ..workspace.models import Macro, SavedView, TicketAudit  # noqa: F401
