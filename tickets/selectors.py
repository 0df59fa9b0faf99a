"""Reads about tickets, all through one access gate.

``tickets_visible_to`` is the only place that decides which tickets a user may see;
the portal, the API, attachment downloads and email threading all go through it, and
anything outside it is reported as not found, never as forbidden.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from scalr_support.accounts.models import User
from scalr_support.common.errors import NotFound

from . import sla_state
from .models import (
    Attachment,
    Comment,
    Contact,
    PriorityChange,
    Ticket,
)

_CONTACT_CACHE = "_scalr_contact"


def users_with_membership() -> QuerySet[User]:
    """Users read together with their membership (organisation and tier).

    For callers that look a user up and then go through the access gate (email
    threading): ``contact_for_user`` finds the membership already loaded, so the
    gate costs one query instead of two.
    """
    return User.objects.select_related("contact__organization__tier")


def contact_for_user(user: User | AnonymousUser) -> Contact | None:
    """Return the user's customer membership (with organisation and tier), cached."""
    if not user.is_authenticated or user.is_staff:
        return None
    if not hasattr(user, _CONTACT_CACHE):
        contact: Contact | None
        if User.contact.is_cached(user):  # type: ignore[attr-defined]
            # Loaded by users_with_membership(); None when there is no membership.
            contact = getattr(user, "contact", None)
        else:
            contact = (
                Contact.objects.select_related("organization__tier")
                .filter(user_id=user.pk)
                .first()
            )
        setattr(user, _CONTACT_CACHE, contact)
    return getattr(user, _CONTACT_CACHE)


def tickets_visible_to(user: User | AnonymousUser) -> QuerySet[Ticket]:
    """Staff see every ticket; a contact sees the organisation's; others nothing."""
    if user.is_authenticated and user.is_staff:
        return Ticket.objects.all()
    contact = contact_for_user(user)
    if contact is None:
        return Ticket.objects.none()
    return Ticket.objects.filter(organization_id=contact.organization_id)


def ticket_get_for_user(
    user: User | AnonymousUser,
    number: int,
    *,
    for_update: bool = False,
    with_people: bool = True,
) -> Ticket:
    """Fetch one ticket the user may see, or raise NotFound.

    A contact's ticket is their organisation's, which ``contact_for_user`` has
    already loaded with its tier, so it is reused rather than joined again.
    ``with_people=False`` skips the requester and assignee joins for callers that
    mostly need the row alone (the cached portal page); each then loads on first
    access. Every join costs PostgreSQL planning time on every request.
    """
    contact = contact_for_user(user)
    queryset = tickets_visible_to(user)
    if with_people:
        queryset = queryset.select_related("requester", "assignee")
    if contact is None:
        queryset = queryset.select_related("organization__tier")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    try:
        ticket = queryset.get(number=number)
    except (Ticket.DoesNotExist, ValueError, OverflowError):
        raise NotFound("No such ticket.") from None
    if contact is not None:
        ticket.organization = contact.organization
    return ticket


def tickets_get_for_users(
    requests: Collection[tuple[User, int]], *, for_update: bool = False
) -> dict[int, Ticket]:
    """``ticket_get_for_user`` for many (user, number) pairs in one query, by number.

    The query is the OR of each user's ``tickets_visible_to`` for their number, so
    a number missing from the answer is one its user may not see. Each number must
    be asked by one user only, or the answer could be another's. With
    ``for_update`` the rows are locked in id order, the order every batch takes,
    so two batches cannot deadlock. The people are not joined (each loads on first
    access), as with ``with_people=False``.
    """
    asked: dict[int, User] = {}
    for user, number in requests:
        if asked.setdefault(number, user).pk != user.pk:
            raise ValueError(f"ticket {number} asked for by more than one user")
    queryset = reduce(
        or_,
        (tickets_visible_to(user).filter(number=n) for n, user in asked.items()),
        Ticket.objects.none(),
    )
    if any(user.is_staff for user in asked.values()):
        queryset = queryset.select_related("organization__tier")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    found = {}
    for ticket in queryset.order_by("pk"):
        contact = contact_for_user(asked[ticket.number])
        if contact is not None:
            ticket.organization = contact.organization
        found[ticket.number] = ticket
    return found


def attachment_get_for_user(
    user: User | AnonymousUser, number: int, attachment_id: int
) -> Attachment:
    """Fetch an attachment of a visible ticket; internal notes' files stay hidden."""
    ticket = ticket_get_for_user(user, number)
    queryset = Attachment.objects.filter(ticket=ticket).readable_by(user)
    try:
        return queryset.get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError, OverflowError):
        raise NotFound("No such attachment.") from None


@dataclass(frozen=True)
class TicketFilters:
    """``status`` is one status (the API's filter); ``statuses`` several (portal).

    ``scope``: "mine" (requested by the user, or assigned to them for staff),
    "following" (the user is copied on it) or anything else (all visible).
    ``ordering``: ORM ordering; empty is newest activity first.
    """

    status: str = ""
    priority: int | None = None
    q: str = ""
    statuses: tuple[str, ...] = ()
    scope: str = ""
    ordering: tuple[Any, ...] = ()


def ticket_list(user: User | AnonymousUser, filters: TicketFilters) -> QuerySet[Ticket]:
    """Visible tickets matching the filters, newest activity first by default."""
    queryset = tickets_visible_to(user).select_related("requester", "organization")
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    if filters.scope == "mine":
        mine = "assignee" if user.is_staff else "requester"
        queryset = queryset.filter(**{mine: user.pk})
    elif filters.scope == "following":
        queryset = queryset.filter(followers__user=user.pk)
    if filters.priority is not None:
        queryset = queryset.filter(priority=filters.priority)
    if filters.q:
        term = filters.q.strip()
        match = Q(subject__icontains=term) | Q(description__icontains=term)
        digits = term.removeprefix("#")
        # ASCII only: str.isdigit() also takes "²", which int() refuses.
        if digits.isascii() and digits.isdigit() and len(digits) < 10:
            match |= Q(number=int(digits))
        queryset = queryset.filter(match)
    if filters.ordering:
        return queryset.order_by(*filters.ordering)
    return queryset.order_by("-last_activity_at", "-number")


def ticket_description_attachments(ticket: Ticket) -> QuerySet[Attachment]:
    return Attachment.objects.filter(ticket=ticket, comment__isnull=True).order_by("id")


# What a page shows of a person: ``display_name`` and whether they are support.
_PERSON_FIELDS = ("id", "email", "first_name", "last_name", "is_staff")


@dataclass(frozen=True)
class TicketPageThread:
    """What a ticket page shows: the description's files and the thread.

    ``entries`` holds comments (each with ``author``, ``session`` and its own
    ``files`` loaded) and priority changes (with ``changed_by``), in time order.
    """

    description_attachments: list[Attachment]
    entries: list[Comment | PriorityChange]


def ticket_page_thread(ticket: Ticket, user: User | AnonymousUser) -> TicketPageThread:
    """A ticket page's thread (the portal's and the admin's) in four queries.

    The people (the requester, every author and whoever changed the priority) come
    in one primary-key lookup, and all of the ticket's files in one query, shared
    out to the description and to the comments the user may read. Files of
    internal notes never reach a customer because their notes are not loaded for
    them. A reply that requests a real-time session carries it (``session``).

    Sets ``ticket.requester``, each comment's ``author`` and ``files`` and each
    priority change's ``changed_by``.
    """
    readable = Comment.objects.filter(ticket=ticket).readable_by(user)
    comments = list(
        readable.select_related("session").defer("body", "email_message_id").order_by()
    )
    changes = list(PriorityChange.objects.filter(ticket=ticket).order_by())
    people = User.objects.only(*_PERSON_FIELDS).in_bulk(
        {
            ticket.requester_id,
            *(comment.author_id for comment in comments),
            *(change.changed_by_id for change in changes),
        }
    )
    ticket.requester = people[ticket.requester_id]
    for change in changes:
        change.changed_by = people[change.changed_by_id]
    by_comment: dict[int | None, list[Attachment]] = {None: []}
    for comment in comments:
        comment.author = people[comment.author_id]
        comment.files = by_comment.setdefault(comment.pk, [])  # type: ignore[attr-defined]
    for attachment in (
        Attachment.objects.filter(ticket=ticket)
        .only("id", "comment_id", "filename", "size")
        .order_by("id")
    ):
        files = by_comment.get(attachment.comment_id)
        if files is not None:
            files.append(attachment)
    entries: list[Comment | PriorityChange] = [*comments, *changes]
    entries.sort(key=lambda entry: (entry.created_at, entry.pk))
    return TicketPageThread(description_attachments=by_comment[None], entries=entries)


# --- REST API reads (tickets/apis.py); each builds on the gate above --------------


def ticket_list_for_api(
    user: User | AnonymousUser,
    *,
    status: str = "",
    priority: int | None = None,
    organization_id: int | None = None,
    updated_since: datetime | None = None,
    sla_state: str = "",
) -> QuerySet[Ticket]:
    """``ticket_list`` plus the API's filters (organisation, updated, SLA state).

    ``updated_since`` compares with ``updated_at`` for staff and with the public
    ``last_activity_at`` for customers, as the tickets' output does.

    The organisation filter narrows the visible set; it never widens it, so a
    customer asking for another organisation simply gets nothing.
    """
    queryset = ticket_list(
        user, TicketFilters(status=status, priority=priority)
    ).select_related("assignee")
    if organization_id is not None:
        queryset = queryset.filter(organization_id=organization_id)
    if updated_since is not None:
        # Customers' "updated" is the last change they can see: an internal note
        # or an assignment must not bring a ticket back into their sync.
        changed = "updated_at" if user.is_staff else "last_activity_at"
        queryset = queryset.filter(**{f"{changed}__gte": updated_since})
    if sla_state:
        queryset = tickets_in_sla_state(queryset, sla_state)
    return queryset


def ticket_comments(ticket: Ticket, user: User | AnonymousUser) -> QuerySet[Comment]:
    """The ticket's comments the user may read (no internal notes for customers)."""
    comments = (
        Comment.objects.filter(ticket=ticket).readable_by(user).select_related("author")
    )
    return comments.prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    ).order_by("created_at", "id")


def ticket_attachments(
    ticket: Ticket, user: User | AnonymousUser
) -> QuerySet[Attachment]:
    """The ticket's files the user may download; internal notes' stay hidden."""
    queryset = Attachment.objects.filter(ticket=ticket).readable_by(user)
    return queryset.order_by("created_at", "id")


def comment_get_for_user(
    user: User | AnonymousUser, ticket: Ticket, comment_id: int
) -> Comment:
    """One comment of a visible ticket, or NotFound (internal notes for staff only)."""
    queryset = Comment.objects.filter(ticket=ticket).readable_by(user)
    try:
        return queryset.get(pk=comment_id)
    except (Comment.DoesNotExist, ValueError, OverflowError):
        raise NotFound("No such comment.") from None


def ticket_priority_changes(ticket: Ticket) -> QuerySet[PriorityChange]:
    return (
        PriorityChange.objects.filter(ticket=ticket)
        .select_related("changed_by")
        .order_by("created_at", "id")
    )


_HAS_CLOCK = Q(first_response_due_at__isnull=False)


def tickets_in_sla_state(
    queryset: QuerySet[Ticket], state: str, *, now: datetime | None = None
) -> QuerySet[Ticket]:
    """Filter tickets to one SLA state, exactly as ``sla_state.sla_state`` decides.

    Reads only the ticket's denormalised SLA fields, so it adds no join.
    """
    now = now or timezone.now()
    if state == sla_state.BEST_EFFORT:
        return queryset.filter(_HAS_CLOCK, sla_best_effort=True)
    guaranteed = queryset.filter(_HAS_CLOCK, sla_best_effort=False)
    if state == sla_state.BREACHED:
        return guaranteed.filter(Q(sla_breached=True) | Q(sla_due_at__lte=now))
    if state == sla_state.AT_RISK:
        return guaranteed.filter(
            sla_breached=False, sla_due_at__gt=now, sla_at_risk_at__lte=now
        )
    if state == sla_state.ON_TRACK:
        return guaranteed.filter(sla_breached=False, sla_due_at__gt=now).filter(
            Q(sla_at_risk_at__isnull=True) | Q(sla_at_risk_at__gt=now)
        )
    if state == sla_state.MET:
        return guaranteed.filter(sla_breached=False, sla_due_at__isnull=True)
    raise ValueError(f"unknown SLA state {state!r}")
