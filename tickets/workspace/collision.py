"""Collision detection: what changed on a ticket since an engineer opened it.

The ticket page posts back a "seen" token: the ticket's ``updated_at`` (which
every service write moves) and the values of the fields the page showed. On save,
``changes_since`` lists what someone else did meanwhile (replies, notes, priority
and field changes); when the list is not empty the page warns and shows it
instead of applying the save, and the engineer submits again, now having seen it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from scalr_support.accounts.models import User

from ..choices import Category, Priority, Status
from ..models import Comment, PriorityChange, Ticket
from .models import AuditAction, TicketAudit
from .queues import is_number

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_SEP = "|"
FIELD_NAMES: "dict[str, StrOrPromise]" = {
    AuditAction.STATUS: _lazy("the status"),
    AuditAction.ASSIGNEE: _lazy("the assignee"),
    AuditAction.CATEGORY: _lazy("the category"),
    AuditAction.SCOPE: _lazy("the scope"),
}


@dataclass(frozen=True)
class Seen:
    """The state of a ticket as its page showed it."""

    updated_at: datetime
    status: str
    priority: int
    assignee_id: int | None
    category: str

    @classmethod
    def of(cls, ticket: Ticket) -> "Seen":
        return cls(
            ticket.updated_at,
            ticket.status,
            ticket.priority,
            ticket.assignee_id,
            ticket.category,
        )

    def token(self) -> str:
        return _SEP.join(
            [
                self.updated_at.isoformat(),
                self.status,
                str(self.priority),
                str(self.assignee_id or ""),
                self.category,
            ]
        )

    @classmethod
    def parse(cls, token: str) -> "Seen | None":
        """The seen state from a posted token; None when it is missing or mangled."""
        parts = token.split(_SEP)
        if len(parts) != 5:
            return None
        try:
            moment = parse_datetime(parts[0])
        except ValueError:  # well-formed but impossible, such as month 13
            return None
        # A time without its offset cannot be compared with the ticket's.
        if moment is None or moment.utcoffset() is None or not is_number(parts[2]):
            return None
        assignee = int(parts[3]) if is_number(parts[3]) else None
        return cls(moment, parts[1], int(parts[2]), assignee, parts[4])


@dataclass(frozen=True)
class Change:
    who: str
    what: str
    at: datetime | None


def _label(choices: type, value: object) -> str:
    try:
        return str(choices(value).label)  # type: ignore[operator]
    except ValueError:
        return str(value)


def changes_since(ticket: Ticket, seen: Seen, viewer: User) -> list[Change]:
    """What others changed on the ticket after ``seen`` (empty: safe to save).

    Four small queries, only when the ticket's ``updated_at`` moved. The
    viewer's own changes (another tab) are not collisions.
    """
    if ticket.updated_at <= seen.updated_at:
        return []
    after = seen.updated_at
    changes, replied = _comment_changes(ticket, after, viewer)
    changes.extend(_priority_changes(ticket, after, viewer))
    audit_changes, audited = _audited_changes(ticket, after, viewer)
    changes.extend(audit_changes)
    changes.extend(_unaudited_changes(ticket, seen, audited, replied=replied))
    changes.sort(key=lambda c: (c.at is None, c.at or after))
    return changes


def _comment_changes(
    ticket: Ticket, after: datetime, viewer: User
) -> tuple[list[Change], bool]:
    """Others' replies and notes since ``after``, and whether anyone replied.

    The viewer's own public replies still count as "replied": they explain a
    status the reply moved, which must not show up as an unexplained change.
    """
    changes: list[Change] = []
    replied = False
    for comment in (
        Comment.objects.filter(ticket=ticket, created_at__gt=after)
        .select_related("author")
        .only(
            "created_at",
            "is_public",
            "author_id",
            "author__email",
            "author__first_name",
            "author__last_name",
        )
        .order_by("created_at")
    ):
        replied = replied or comment.is_public
        if comment.author_id == viewer.pk:
            continue
        what = _("replied") if comment.is_public else _("added an internal note")
        changes.append(Change(comment.author.display_name, what, comment.created_at))
    return changes, replied


def _priority_changes(ticket: Ticket, after: datetime, viewer: User) -> list[Change]:
    """Others' priority changes since ``after``, each with its stated reason."""
    return [
        Change(
            change.changed_by.display_name,
            _("changed the priority to %(p)s: %(why)s")
            % {"p": change.get_to_priority_display(), "why": change.reason},
            change.created_at,
        )
        for change in (
            PriorityChange.objects.filter(ticket=ticket, created_at__gt=after)
            .exclude(changed_by=viewer)
            .select_related("changed_by")
        )
    ]


def _audited_changes(
    ticket: Ticket, after: datetime, viewer: User
) -> tuple[list[Change], set[str]]:
    """Others' audited field changes since ``after``, and every action audited.

    The set includes the viewer's own entries so that a field they changed is
    not then reported as changed without an audit row.
    """
    changes: list[Change] = []
    audited = set()
    for entry in (
        TicketAudit.objects.filter(ticket=ticket, created_at__gt=after)
        .exclude(action__in=[AuditAction.NOTE, AuditAction.PRIORITY])
        .select_related("actor")
    ):
        audited.add(entry.action)
        if entry.actor_id == viewer.pk:
            continue
        changes.append(
            Change(
                entry.actor.display_name,
                _("changed %(what)s from “%(old)s” to “%(new)s”")
                % {
                    "what": FIELD_NAMES.get(entry.action) or entry.action,
                    "old": entry.from_value or "—",
                    "new": entry.to_value or "—",
                },
                entry.created_at,
            )
        )
    return changes, audited


def _unaudited_changes(
    ticket: Ticket, seen: Seen, audited: set[str], *, replied: bool
) -> list[Change]:
    """Fields that differ from what the page showed with no audit row to say why.

    Changes made outside the workspace (the API, the portal) leave no audit row;
    the values still tell. A status moved by someone's reply is explained by the
    reply, and every priority change has its own row in the thread.
    """
    someone = _("Someone else")
    found = []
    if ticket.status != seen.status and not replied and "status" not in audited:
        status = _label(Status, ticket.status)
        found.append(
            Change(someone, _("set the status to %(s)s") % {"s": status}, None)
        )
    if ticket.assignee_id != seen.assignee_id and "assignee" not in audited:
        who = ticket.assignee.display_name if ticket.assignee else _("nobody")
        found.append(Change(someone, _("assigned it to %(who)s") % {"who": who}, None))
    if ticket.category != seen.category and "category" not in audited:
        category = _label(Category, ticket.category)
        found.append(
            Change(someone, _("set the category to %(c)s") % {"c": category}, None)
        )
    if (
        ticket.priority != seen.priority
        and not PriorityChange.objects.filter(
            ticket=ticket, created_at__gt=seen.updated_at
        ).exists()
    ):
        priority = _label(Priority, ticket.priority)
        found.append(
            Change(someone, _("set the priority to %(p)s") % {"p": priority}, None)
        )
    return found
