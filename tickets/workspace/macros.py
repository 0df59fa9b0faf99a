"""Canned replies: which macros an engineer may use, and their text for a ticket.

Placeholders are substituted by a tiny explicit table, never by a template
engine: a macro's text cannot reach settings, other objects or template tags,
whoever wrote it. Unknown placeholders are refused when the macro is saved
(``placeholder_errors``) and left as typed if one slips through.
"""

import re
from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from scalr_support.accounts.models import User

from ..models import Ticket
from .models import AssigneeAction, Macro

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")

PLACEHOLDERS: dict[str, Callable[[Ticket, User], str]] = {
    "contact.first_name": lambda t, a: t.requester.first_name or t.requester.email,
    "contact.last_name": lambda t, a: t.requester.last_name,
    "contact.name": lambda t, a: t.requester.display_name,
    "ticket.number": lambda t, a: str(t.number),
    "ticket.subject": lambda t, a: t.subject,
    "ticket.priority": lambda t, a: str(t.get_priority_display()),
    "organization.name": lambda t, a: t.organization.name,
    "agent.first_name": lambda t, a: a.first_name or a.display_name,
    "agent.name": lambda t, a: a.display_name,
}


def placeholder_errors(text: str) -> list[str]:
    """What in ``text`` macros do not substitute: unknown names and template tags."""
    used = {" ".join(name.split()) for name in re.findall(r"\{\{(.*?)\}\}", text)}
    unknown = {name for name in used if name not in PLACEHOLDERS}
    if "{%" in text:
        unknown.add("{%")
    return sorted(unknown)


def macro_render(text: str, *, ticket: Ticket, agent: User) -> str:
    """Substitute the known placeholders; the result is plain Markdown text."""

    def value(match: re.Match[str]) -> str:
        fill = PLACEHOLDERS.get(match.group(1))
        return fill(ticket, agent) if fill else match.group(0)

    return _PLACEHOLDER.sub(value, text)


def macros_for(user: User) -> QuerySet[Macro]:
    """The shared macros and the user's own, by title."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user)).order_by(
        "title", "id"
    )


def macros_for_ticket(ticket: Ticket, agent: User) -> list[dict[str, Any]]:
    """Every macro the agent may use, rendered for the ticket, for the page's JSON.

    The ticket page inserts the text and sets the fields in the browser, where
    the engineer sees them before sending; nothing is applied until they save.
    """
    rendered = []
    for macro in macros_for(agent):
        assignee: str | None = None
        if macro.assignee_action == AssigneeAction.SELF:
            assignee = str(agent.pk)
        elif macro.assignee_action == AssigneeAction.UNASSIGN:
            assignee = ""
        elif macro.assignee_action == AssigneeAction.USER and macro.assignee_id:
            assignee = str(macro.assignee_id)
        rendered.append(
            {
                "id": macro.pk,
                "title": macro.title,
                "shared": macro.is_shared,
                "body": macro_render(macro.body, ticket=ticket, agent=agent),
                "internal": macro.is_internal,
                "status": macro.set_status or None,
                "priority": macro.set_priority,
                "priority_reason": macro.priority_reason,
                "assignee": assignee,
            }
        )
    return rendered
