"""The ticket list page: filters, sorting, whose tickets, and the shared cache."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from . import cache as ticket_cache
from . import organizations, selectors
from .ticket_list import (
    ALL_OPEN,
    TicketListForm,
    list_query,
    ordering,
    sort_links,
    status_summary,
)

TICKETS_PER_PAGE = 25


@require_GET
@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    contact = request.contact  # type: ignore[attr-defined]

    form = TicketListForm(request.GET or None)
    wanted = list_query(form)

    def render_table() -> str:
        tickets = selectors.ticket_list(
            request.user,
            selectors.TicketFilters(
                statuses=wanted.statuses,
                priority=wanted.priority,
                q=wanted.q,
                scope=wanted.scope,
                ordering=tuple(ordering(wanted.sort)),
            ),
        )
        page = Paginator(tickets, TICKETS_PER_PAGE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render_to_string(
            "tickets/_ticket_table.html",
            {
                "page": page,
                "form": form,
                "wanted": wanted,
                "query": query.urlencode(),
                "sorts": sort_links(request.GET, wanted.sort),
                "checked_statuses": request.GET.getlist("status") or [ALL_OPEN],
                "status_summary": status_summary(wanted.statuses),
            },
            request=request,
        )

    if contact is None:  # staff see every organisation: nothing to share
        table_html = render_table()
    else:
        # "Mine" and "I follow" differ per viewer; the organisation's list does not.
        viewer = request.user.pk if wanted.scope != "organization" else None
        table_html = ticket_cache.fragment(
            organization_id=contact.organization_id,
            name="list",
            parts=(request.GET.urlencode(), contact.is_technical_contact, viewer),
            render=render_table,
        )
    return render(
        request,
        "tickets/ticket_list.html",
        {
            # Rendered by the autoescaping template above, from this organisation's
            # rows.
            "table_html": mark_safe(table_html),  # noqa: S308
            **organizations.who_can_open_tickets(contact),
            "contact": contact,
            "tier": contact.organization.tier if contact else None,
        },
    )
