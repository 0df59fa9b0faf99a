"""Who hears about what: the rules that keep customer mail inside its organisation."""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from scalr_support.accounts.models import User
from tickets.models import Ticket


def _watchers(ticket: Ticket, exclude: Iterable[int] = ()) -> QuerySet[User]:
    return (
        User.objects.filter(
            is_active=True, contact__organization_id=ticket.organization_id
        )
        .filter(
            Q(pk=ticket.requester_id) | Q(contact__notify_organization_tickets=True)
        )
        .exclude(pk__in=list(exclude))
    )


def ticket_watchers(ticket: Ticket, *, exclude: Iterable[int] = ()) -> list[User]:
    """The requester and the organisation's contacts who follow its tickets.

    Every recipient belongs to the ticket's organisation: a contact who turned
    organisation-wide mail off still hears about the tickets they opened.
    """
    return list(_watchers(ticket, exclude).order_by("pk"))


def _in_groups(*names: str) -> Exists:
    """Membership of any of the groups, as a condition rather than a join.

    A join over the groups table needs DISTINCT (a user in both groups comes back
    twice); EXISTS does not, and PostgreSQL plans it as a semi-join.
    """
    return Exists(
        User.groups.through.objects.filter(
            user_id=OuterRef("pk"), group__name__in=names
        )
    )


def support_staff() -> QuerySet[User]:
    """Active staff in the support groups."""
    return User.objects.filter(
        _in_groups(SUPPORT_ENGINEER, SUPPORT_MANAGER), is_active=True, is_staff=True
    ).order_by("pk")


def support_managers() -> QuerySet[User]:
    return User.objects.filter(
        _in_groups(SUPPORT_MANAGER), is_active=True, is_staff=True
    ).order_by("pk")


def customer_reply_recipients(ticket: Ticket, *, author_id: int) -> list[User]:
    """Who hears about a customer's reply: its handlers and watchers, in one query.

    The handlers are the assignee while active, else every support engineer (the
    ticket is in the queue); the watchers are as in ``ticket_watchers``, less the
    author. A customer's reply is the busiest event (every email reply is one), so
    both rules are one statement.
    """
    staff = support_staff().order_by()
    watchers = _watchers(ticket, [author_id])
    # UNION, not OR: each branch keeps its own index plan (an OR across the
    # contact join would scan every user).
    if not ticket.assignee_id:
        return list(staff.union(watchers).order_by("pk"))
    assignee = User.objects.filter(pk=ticket.assignee_id, is_active=True)
    queue = staff.filter(~Exists(assignee))  # only while the assignee is inactive
    return list(assignee.union(queue, watchers).order_by("pk"))
