"""Who hears about what: the rules that keep customer mail inside its organisation."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from scalr_support.accounts.models import User
from tickets.models import Ticket


def ticket_watchers(ticket: Ticket, *, exclude: Iterable[int] = ()) -> list[User]:
    """The requester and the organisation's contacts who follow its tickets.

    Every recipient belongs to the ticket's organisation: a contact who turned
    organisation-wide mail off still hears about the tickets they opened.
    """
    return list(
        User.objects.filter(
            is_active=True, contact__organization_id=ticket.organization_id
        )
        .filter(
            Q(pk=ticket.requester_id) | Q(contact__notify_organization_tickets=True)
        )
        .exclude(pk__in=list(exclude))
        .order_by("pk")
    )


def support_staff() -> QuerySet[User]:
    """Active staff in the support groups."""
    return (
        User.objects.filter(
            is_active=True,
            is_staff=True,
            groups__name__in=[SUPPORT_ENGINEER, SUPPORT_MANAGER],
        )
        .distinct()
        .order_by("pk")
    )


def support_managers() -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True, is_staff=True, groups__name=SUPPORT_MANAGER)
        .distinct()
        .order_by("pk")
    )


def ticket_handlers(ticket: Ticket) -> list[User]:
    """The assignee, or every support engineer while the ticket is unassigned."""
    if ticket.assignee_id and ticket.assignee and ticket.assignee.is_active:
        return [ticket.assignee]
    return list(support_staff())
