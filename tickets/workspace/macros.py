"""Canned replies: which macros an engineer may use, and their text for a ticket.

Placeholders are substituted by a tiny explicit table, never by a template
engine: a macro's text cannot reach settings, other objects or template tags,
whoever wrote it. Unknown placeholders are refused when the macro is saved
(``placeholder_errors``) and left as typed if one slips through.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.core.cache import cache
from django.db.models import Q, QuerySet

from scalr_support.accounts.models import User

from ..models import Ticket
from . import versions
from .models import AssigneeAction, Macro

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")

# What a placeholder shows of the ticket: kept with the ticket page's head
# (``page_head``), under the same versions as what it shows.
TICKET_PLACEHOLDERS: dict[str, Callable[[Ticket], str]] = {
    "contact.first_name": lambda t: t.requester.first_name or t.requester.email,
    "contact.last_name": lambda t: t.requester.last_name,
    "contact.name": lambda t: t.requester.display_name,
    "ticket.number": lambda t: str(t.number),
    "ticket.subject": lambda t: t.subject,
    "ticket.priority": lambda t: str(t.get_priority_display()),
    "organization.name": lambda t: t.organization.name,
}
AGENT_PLACEHOLDERS: dict[str, Callable[[User], str]] = {
    "agent.first_name": lambda a: a.first_name or a.display_name,
    "agent.name": lambda a: a.display_name,
}
PLACEHOLDERS = frozenset({*TICKET_PLACEHOLDERS, *AGENT_PLACEHOLDERS})


def ticket_placeholder_values(ticket: Ticket) -> dict[str, str]:
    """What the ticket's placeholders are filled with, in the current language."""
    return {name: fill(ticket) for name, fill in TICKET_PLACEHOLDERS.items()}


def placeholder_errors(text: str) -> list[str]:
    """What in ``text`` macros do not substitute: unknown names and template tags."""
    used = {" ".join(name.split()) for name in re.findall(r"\{\{(.*?)\}\}", text)}
    unknown = {name for name in used if name not in PLACEHOLDERS}
    if "{%" in text:
        unknown.add("{%")
    return sorted(unknown)


def macro_render(text: str, *, ticket_values: Mapping[str, str], agent: User) -> str:
    """Substitute the known placeholders; the result is plain Markdown text.

    ``ticket_values``: ``ticket_placeholder_values`` of the ticket.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ticket_values:
            return ticket_values[name]
        fill = AGENT_PLACEHOLDERS.get(name)
        return fill(agent) if fill else match.group(0)

    return _PLACEHOLDER.sub(value, text)


def macros_for(user: User) -> QuerySet[Macro]:
    """The shared macros and the user's own, by title."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user)).order_by(
        "title", "id"
    )


# A net for writes that send no signal (``QuerySet.update``, raw SQL): correctness
# comes from the version, this only bounds what such a write leaves stale.
MACROS_TIMEOUT = 600
_ROW = (
    "id",
    "title",
    "owner_id",
    "body",
    "is_internal",
    "set_status",
    "set_priority",
    "priority_reason",
    "assignee_action",
    "assignee_id",
)


def macro_cache_keys(user: User) -> tuple[str, str]:
    """The version key and the user's entry, for pages that fetch them with others."""
    return versions.MACROS, f"workspace:macros:user:{user.pk}"


def _macro_rows(user: User, found: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
    """The user's macros as stored rows, from the cache when still current.

    Per user (shared macros and their own), valid under ``versions.MACROS``,
    which ``macros_changed`` replaces once a save or delete of any macro commits.
    The version is read before the rows, so rows read after a write committed but
    before its bump are stored under the old version and never served.
    """
    version_key, key = macro_cache_keys(user)
    if found is None:
        found = cache.get_many([version_key, key])
    version = versions.current(found, version_key)
    entry = found.get(key)
    if isinstance(entry, tuple) and entry[0] == version:
        return entry[1]  # type: ignore[no-any-return]
    rows = list(macros_for(user).values_list(*_ROW))
    cache.set(key, (version, rows), MACROS_TIMEOUT)
    return rows


def macros_changed(sender: type, **kwargs: Any) -> None:
    """Invalidate every user's cached macros once the write commits (signal receiver).

    Connected to saves and deletes of macros (deleting an owner deletes theirs,
    with signals) and to deletes of users, whom a macro may name as the assignee
    (``SET_NULL`` updates the macro without a signal).
    """
    versions.bump(versions.MACROS)


def macros_for_ticket(
    ticket_values: Mapping[str, str],
    agent: User,
    *,
    cached: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every macro the agent may use, rendered for the ticket, for the page's JSON.

    The ticket page inserts the text and sets the fields in the browser, where
    the engineer sees them before sending; nothing is applied until they save.
    ``ticket_values`` are the ticket's ``ticket_placeholder_values``; ``cached``
    is what the page read from the cache for ``macro_cache_keys``
    (with its other keys, in one round trip); without it they are read here.
    Placeholders are filled on every request: the rows are shared by tickets.
    """
    rendered = []
    for (
        pk,
        title,
        owner_id,
        body,
        is_internal,
        set_status,
        set_priority,
        priority_reason,
        assignee_action,
        assignee_id,
    ) in _macro_rows(agent, cached):
        assignee: str | None = None
        if assignee_action == AssigneeAction.SELF:
            assignee = str(agent.pk)
        elif assignee_action == AssigneeAction.UNASSIGN:
            assignee = ""
        elif assignee_action == AssigneeAction.USER and assignee_id:
            assignee = str(assignee_id)
        rendered.append(
            {
                "id": pk,
                "title": title,
                "shared": owner_id is None,
                "body": macro_render(body, ticket_values=ticket_values, agent=agent),
                "internal": is_internal,
                "status": set_status or None,
                "priority": set_priority,
                "priority_reason": priority_reason,
                "assignee": assignee,
            }
        )
    return rendered
