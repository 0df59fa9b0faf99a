"""What tickets tell the apps that react to them (sla, notifications).

Tickets is the core and imports none of them; each reacting app subscribes its
handlers in ``AppConfig.ready`` (``sla/handlers.py``, ``notifications/handlers.py``).
Every event is published inside the transaction of the write it describes, so
what the handlers write commits or rolls back with it (the mechanism:
``scalr_support.common.events``).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from scalr_support.accounts.models import User
from scalr_support.common.events import (
    Event,
    Stage,
    batch,
    batch_context_register,
    handlers_of,
    publish,
    subscribe,
    unsubscribe,
)

from .customer_models import Invitation, TicketFollower
from .models import Comment, Organization, PriorityChange, Ticket

__all__ = [
    "CommentsAdded",
    "CommentsWritten",
    "Event",
    "FollowerAdded",
    "InvitationCreated",
    "PriorityChanged",
    "Stage",
    "StatusChanged",
    "TicketCreated",
    "batch",
    "batch_context_register",
    "handlers_of",
    "publish",
    "subscribe",
    "unsubscribe",
]


@dataclass(frozen=True)
class TicketCreated(Event):
    """A ticket was opened (its attachments are stored)."""

    ticket: Ticket


@dataclass(frozen=True)
class CommentsWritten(Event):
    """Comments are written and their tickets moved along, not yet saved.

    ``save_with`` holds each ticket's fields still to save, by ticket id: a
    handler that sets more fields of a ticket adds their names there instead of
    saving the ticket itself (the caller saves each ticket once).
    """

    comments: Sequence[Comment]
    save_with: dict[int, list[str]]


@dataclass(frozen=True)
class CommentsAdded(Event):
    """Comments and their tickets are saved."""

    comments: Sequence[Comment]


@dataclass(frozen=True)
class StatusChanged(Event):
    """The status changed; ``by_user_id`` changed it (None: the system)."""

    ticket: Ticket
    by_user_id: int | None


@dataclass(frozen=True)
class PriorityChanged(Event):
    """The ticket was re-prioritised (``change.ticket`` has the new priority)."""

    change: PriorityChange


@dataclass(frozen=True)
class InvitationCreated(Event):
    """Someone was invited to join an organisation's portal."""

    invitation: Invitation
    user: User
    organization: Organization
    actor: User


@dataclass(frozen=True)
class FollowerAdded(Event):
    """A colleague was copied on a ticket by ``actor``."""

    follower: TicketFollower
    actor: User
