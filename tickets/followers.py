"""Colleagues copied on a ticket (CC): who may add them, and who they may be.

A follower is always an active contact of the ticket's organisation: they can
already see its tickets, so following only decides who gets its mail. The
recipients' rules (``notifications.recipients``) check the organisation again
when mail is sent, so an address outside it is never mailed ticket contents.
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import NotAllowed, ValidationFailed

from . import events
from .cache import organization_changed
from .customer_models import TicketFollower
from .models import Ticket


def ticket_followers(ticket: Ticket) -> list[User]:
    return [
        follower.user
        for follower in TicketFollower.objects.filter(ticket=ticket)
        .select_related("user")
        .order_by("user__first_name", "user__email")
    ]


def follower_candidates(ticket: Ticket) -> QuerySet[User]:
    """Colleagues who could be copied: active contacts not already on the ticket."""
    return (
        User.objects.filter(
            contact__organization_id=ticket.organization_id, is_active=True
        )
        .exclude(pk=ticket.requester_id)
        .exclude(followed__ticket=ticket)
        .order_by("first_name", "last_name", "email")
    )


def can_manage_followers(ticket: Ticket, actor: User) -> bool:
    return actor.is_staff or actor.pk == ticket.requester_id


def follower_add(*, ticket: Ticket, actor: User, email: str) -> TicketFollower:
    """Copy a colleague on the ticket and tell them (event ``follower:<id>``).

    Only the requester or staff may; the colleague must be an active contact of
    the ticket's organisation. Adding someone twice changes nothing (unique).
    """
    if not can_manage_followers(ticket, actor):
        raise NotAllowed(_("Only the requester or Scalr support can copy colleagues."))
    colleague = (
        follower_candidates(ticket).filter(email__iexact=email.strip()).first()
        if email.strip()
        else None
    )
    if colleague is None:
        raise ValidationFailed(
            _("Choose a colleague of this ticket's organisation who is not on it."),
            field="email",
        )
    with transaction.atomic():
        follower, created = TicketFollower.objects.get_or_create(
            ticket=ticket, user=colleague, defaults={"added_by": actor}
        )
        if created:
            organization_changed(ticket.organization_id)
            events.publish(events.FollowerAdded(follower=follower, actor=actor))
    return follower


def follower_remove(*, ticket: Ticket, actor: User, user_id: int) -> None:
    """Stop copying someone: the requester, staff, or the follower themselves."""
    if not (can_manage_followers(ticket, actor) or actor.pk == user_id):
        raise NotAllowed(_("Only the requester or Scalr support can remove others."))
    with transaction.atomic():
        TicketFollower.objects.filter(ticket=ticket, user_id=user_id).delete()
        organization_changed(ticket.organization_id)


def followers_from_email(
    *, ticket: Ticket, addresses: Iterable[str], added_by: User
) -> int:
    """Make the organisation's contacts copied on an inbound email followers.

    Addresses outside the organisation (or of inactive users) are ignored: an
    outsider never becomes a follower. Runs in the email's transaction.
    """
    wanted = {address.strip().lower() for address in addresses if address.strip()}
    if not wanted:
        return 0
    colleagues = [
        user
        for user in follower_candidates(ticket)
        if user.email.lower() in wanted and user.pk != added_by.pk
    ]
    TicketFollower.objects.bulk_create(
        [
            TicketFollower(ticket=ticket, user=user, added_by=added_by)
            for user in colleagues
        ],
        ignore_conflicts=True,
    )
    if colleagues:
        organization_changed(ticket.organization_id)
    return len(colleagues)


def ticket_people(ticket: Ticket) -> dict[str, Any]:
    """Who is copied and who could be, as plain data for the cached ticket page.

    One query: the organisation's active contacts, each marked whether it follows
    the ticket. Every viewer of the organisation sees the same; the page decides
    per viewer whether to offer the forms.
    """
    rows = (
        User.objects.filter(
            contact__organization_id=ticket.organization_id, is_active=True
        )
        .exclude(pk=ticket.requester_id)
        .annotate(
            following=Exists(
                TicketFollower.objects.filter(ticket=ticket, user_id=OuterRef("pk"))
            )
        )
        .order_by("first_name", "last_name", "email")
        .only("id", "email", "first_name", "last_name")
    )
    people: dict[str, list[dict[str, Any]]] = {"followers": [], "candidates": []}
    for user in rows:
        person = {"pk": user.pk, "display_name": user.display_name, "email": user.email}
        people["followers" if user.following else "candidates"].append(person)  # type: ignore[attr-defined]
    return people
