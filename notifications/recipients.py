"""Who hears about what: the rules that keep customer mail inside its organisation."""

from collections.abc import Collection, Iterable, Sequence

from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast

from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from scalr_support.accounts.models import User
from tickets.models import Ticket


def _candidates(tickets: Collection[Ticket]) -> QuerySet[User]:
    """Everyone who may watch one of the tickets, for ``_watches`` to choose from."""
    return User.objects.filter(
        Q(pk__in={ticket.requester_id for ticket in tickets})
        | Q(contact__notify_organization_tickets=True),
        is_active=True,
        contact__organization_id__in={ticket.organization_id for ticket in tickets},
    )


# What staff rows of a UNION carry where a contact's carry their membership.
_NO_ORGANIZATION = Value(None, IntegerField())
_NOT_FOLLOWING = Value(False, BooleanField())
# Typed: PostgreSQL takes an untyped NULL in two UNION branches as text.
_NO_TICKET = Cast(Value(None), BigIntegerField())


def _tagged(
    users: QuerySet[User],
    role: str,
    organization: Combinable = _NO_ORGANIZATION,
    follows: Combinable = _NOT_FOLLOWING,
    followed_ticket: Combinable = _NO_TICKET,
) -> QuerySet[User]:
    """Users with what ``_watches`` reads (and, in a UNION, why they are there)."""
    return users.order_by().annotate(
        role=Value(role, CharField()),
        organization=organization,
        follows=follows,
        followed_ticket=followed_ticket,
    )


def _followers_tagged(tickets: Collection[Ticket]) -> QuerySet[User]:
    """Colleagues copied on one of the tickets: a row per (follower, ticket).

    Only contacts of the tickets' organisations: ``_watches`` then checks it is
    the ticket's own, so a follower never hears about another organisation's.
    """
    users = User.objects.filter(
        followed__ticket_id__in={ticket.pk for ticket in tickets},
        is_active=True,
        contact__organization_id__in={ticket.organization_id for ticket in tickets},
    )
    return _tagged(
        users,
        _FOLLOWER,
        F("contact__organization_id"),
        F("contact__notify_organization_tickets"),
        F("followed__ticket_id"),
    )


def _with_followers(rows: Iterable[User]) -> tuple[list[User], set[tuple[int, int]]]:
    """Watchers and followers as one list of users, and who follows which ticket."""
    people: dict[int, User] = {}
    following: set[tuple[int, int]] = set()
    for user in rows:
        if user.role == _FOLLOWER:  # type: ignore[attr-defined]
            following.add((user.followed_ticket, user.pk))  # type: ignore[attr-defined]
        people.setdefault(user.pk, user)
    return [people[pk] for pk in sorted(people)], following


def _watchers_tagged(tickets: Collection[Ticket]) -> QuerySet[User]:
    return _tagged(
        _candidates(tickets),
        _WATCHER,
        F("contact__organization_id"),
        F("contact__notify_organization_tickets"),
    )


def _watches(
    user: User,
    ticket: Ticket,
    exclude: Collection[int] = (),
    following: Collection[tuple[int, int]] = (),
) -> bool:
    """The watchers' rule: the ticket's requester, its followers and the
    organisation's contacts who follow its tickets. (``user`` comes from
    ``_watchers_tagged`` or ``_followers_tagged``.)"""
    return (
        user.organization == ticket.organization_id  # type: ignore[attr-defined]
        and (
            user.pk == ticket.requester_id
            or user.follows  # type: ignore[attr-defined]
            or (ticket.pk, user.pk) in following
        )
        and user.pk not in exclude
    )


def ticket_watchers(ticket: Ticket, *, exclude: Iterable[int] = ()) -> list[User]:
    """The requester and the organisation's contacts who follow its tickets.

    Every recipient belongs to the ticket's organisation: a contact who turned
    organisation-wide mail off still hears about the tickets they opened.
    """
    return ticket_watchers_for([(ticket, set(exclude))])[0]


def ticket_watchers_for(
    requests: Sequence[tuple[Ticket, Collection[int]]],
) -> list[list[User]]:
    """``ticket_watchers`` of each (ticket, user ids to leave out), in one query."""
    if not requests:
        return []
    tickets = [t for t, _ in requests]
    candidates, following = _with_followers(
        _watchers_tagged(tickets).union(_followers_tagged(tickets), all=True)
    )
    return [
        [user for user in candidates if _watches(user, ticket, exclude, following)]
        for ticket, exclude in requests
    ]


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


# What a row of ``customer_reply_recipients_for``'s UNION is there for.
_QUEUE, _ASSIGNEE, _WATCHER, _FOLLOWER = "queue", "assignee", "watcher", "follower"


def customer_reply_recipients(ticket: Ticket, *, author_id: int) -> list[User]:
    """``customer_reply_recipients_for`` for one reply."""
    return customer_reply_recipients_for([(ticket, author_id)])[0]


def customer_reply_recipients_for(
    replies: Sequence[tuple[Ticket, int]],
) -> list[list[User]]:
    """Who hears about each customer's reply, in the replies' order, in one query.

    ``replies`` are (ticket, author id). The handlers are the assignee while
    active, else every support engineer (the ticket is in the queue); the watchers
    are as in ``ticket_watchers``, less the author. A customer's reply is the
    busiest event (every email reply is one, and the email gateway adds them in
    batches), so all the replies' people are one statement: a UNION of the support
    staff, the assignees and the tickets' possible watchers, each row tagged with
    why it is there. (UNION, not OR: each branch keeps its own index plan; an OR
    across the contact join would scan every user.)
    """

    if not replies:
        return []
    tickets = [ticket for ticket, _author_id in replies]
    branches = [
        _tagged(support_staff(), _QUEUE),
        _watchers_tagged(tickets),
        _followers_tagged(tickets),
    ]
    assignee_ids = {ticket.assignee_id for ticket in tickets if ticket.assignee_id}
    if assignee_ids:
        active = User.objects.filter(pk__in=assignee_ids, is_active=True)
        branches.append(_tagged(active, _ASSIGNEE))
    by_role: dict[str, list[User]] = {
        _QUEUE: [],
        _ASSIGNEE: [],
        _WATCHER: [],
        _FOLLOWER: [],
    }
    for user in sorted(branches[0].union(*branches[1:], all=True), key=lambda u: u.pk):
        by_role[user.role].append(user)  # type: ignore[attr-defined]
    queue = by_role[_QUEUE]
    watchers, following = _with_followers([*by_role[_WATCHER], *by_role[_FOLLOWER]])
    assignees = {user.pk: user for user in by_role[_ASSIGNEE]}
    found = []
    for ticket, author_id in replies:
        assignee = assignees.get(ticket.assignee_id or 0)
        handlers = [assignee] if assignee is not None else queue
        heard = {user.pk: user for user in handlers}
        heard.update(
            (user.pk, user)
            for user in watchers
            if _watches(user, ticket, {author_id}, following)
        )
        found.append([heard[pk] for pk in sorted(heard)])
    return found
