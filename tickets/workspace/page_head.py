"""What the ticket page shows of the ticket itself, as the page writes it.

The header (reference, subject, priority, status, organisation and tier,
category, deployment, version), the side panel's fields with the ticket's
choices, the ``seen`` token, the session refusal and the values the macros'
placeholders take: all of it depends only on the ticket, its organisation, tier
and requester, the staff list (the assignee select), the language, the time zone
and the day (the "unsupported" flag), and nothing of the viewer. A GET keeps it
as one fragment (``page._head_fragment``) and writes it around the per-request
parts (the CSRF field, presence, the queue link, the messages), joined as
separate strings; a posted form (errors, a collision) renders it every time from
the form as posted (``ticket_head``), so nothing typed is ever kept.

The markup is ``_ticket_head.html``'s macros, the page's own template code.
"""

from datetime import date
from typing import Any, NamedTuple

from django.template import engines
from django.urls import reverse
from django.utils.safestring import SafeString

from .. import lifecycle, sessions
from ..models import Ticket
from .forms import TicketPageForm
from .macros import ticket_placeholder_values
from .page_form import ShownForm


class TicketHead(NamedTuple):
    """The ticket's parts of the page: plain text is escaped where it is written."""

    reference: str
    subject: str
    heartbeat_url: str
    sub: SafeString  # the header's line, up to its link back to the queue
    seen: SafeString  # the form's hidden ``seen`` input
    panel: SafeString  # the side panel's fields, up to its Save button
    session_refusal: str
    placeholders: dict[str, str]


def _macros() -> Any:
    return (
        engines["jinja2"]
        .env.get_template(  # type: ignore[attr-defined]
            "tickets/workspace/_ticket_head.html"
        )
        .module
    )


def ticket_head(
    ticket: Ticket, form: TicketPageForm | ShownForm, *, today: date
) -> TicketHead:
    """The ticket's parts of the page, with ``form``'s fields (shown or posted)."""
    unsupported = lifecycle.is_unsupported(ticket.version_support_ends_on, today)
    macros = _macros()
    return TicketHead(
        reference=ticket.reference,
        subject=ticket.subject,
        heartbeat_url=reverse(
            "admin:tickets_ticket_workspace_presence", args=[ticket.pk]
        ),
        sub=SafeString(macros.ticket_sub(ticket, unsupported)),
        seen=SafeString(form["seen"]),
        panel=SafeString(macros.fields_panel(form, ticket, unsupported)),
        session_refusal=sessions.session_refusal(ticket),
        placeholders=ticket_placeholder_values(ticket),
    )
