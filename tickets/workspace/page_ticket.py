"""What a GET of the ticket page reads of its ticket on every request.

A warm page shows its ticket from fragments (``page``: the head, the thread, the
side panel) keyed by the ticket's id, ``updated_at`` and SLA fields under its
organisation's version, so those columns are all it reads (``PageTicket``). The
ticket with its organisation, tier and requester as model instances is read only
when a fragment must be rendered (``TicketSource.full``). That read cost about
1.4 ms of CPU, this one 0.15: Django compiled the select_related statement on
every request (half of it) and built four instances with psycopg 3's pure-Python
timestamptz loader (the other half). Here the statement is compiled once per
process and database (``_statement``: the queryset's own SQL, with the id as its
only parameter) and datetimes come as text parsed by ``fromisoformat``, as the
queue's ``LiveRow`` reads them.
"""

import functools
from datetime import datetime
from typing import Any, NamedTuple, cast

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import TextField
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404

from tickets.sla_state import TICKET_SLA_FIELDS

from ..models import Ticket
from .queues import _aware as aware

# The ticket page's read of a ticket with everything its fragments render.
FULL_RELATED = ("organization__tier", "requester")

_AS_TEXT = {
    f"text_{name}": Cast(name, TextField())
    for name in ("updated_at", *TICKET_SLA_FIELDS)
    if name.endswith("_at")
}
_COLUMNS = ("pk", "organization_id", *_AS_TEXT, "sla_best_effort", "sla_breached")
# Compiled with this id, which must come back as the statement's only parameter.
_ANY_ID = 0


class PageTicket(NamedTuple):
    """The ticket's columns that key the page's fragments (``Seen`` reads the rest)."""

    pk: int
    organization_id: int
    updated_at: datetime
    first_response_due_at: datetime | None
    first_responded_at: datetime | None
    sla_due_at: datetime | None
    sla_at_risk_at: datetime | None
    sla_best_effort: bool
    sla_breached: bool

    @classmethod
    def of(cls, ticket: Ticket) -> "PageTicket":
        """The same values from a ticket read in full (a submit's)."""
        return cls(
            ticket.pk,
            ticket.organization_id,
            ticket.updated_at,
            *(getattr(ticket, name) for name in TICKET_SLA_FIELDS),
        )

    @property
    def sla_state(self) -> tuple[Any, ...]:
        """``TICKET_SLA_FIELDS``' values, in that order."""
        return tuple(getattr(self, name) for name in TICKET_SLA_FIELDS)


@functools.cache
def _statement(alias: str) -> str:
    """The SQL of ``PageTicket``'s read, as Django compiles it for ``alias``."""
    query = (
        Ticket.objects.using(alias)
        .annotate(**_AS_TEXT)
        .filter(pk=_ANY_ID)
        .order_by()
        .values_list(*_COLUMNS)
        .query
    )
    sql, params = query.get_compiler(alias).as_sql()
    if tuple(params) != (_ANY_ID,):
        raise RuntimeError(f"the ticket page's read took {params!r}, not its id")
    return str(sql)


def page_ticket(pk: int, alias: str = DEFAULT_DB_ALIAS) -> PageTicket | None:
    """The ticket's ``PageTicket`` columns, or None when there is no such ticket."""
    with connections[alias].cursor() as cursor:
        cursor.execute(_statement(alias), [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, organization_id, updated, due, responded, sla_due, at_risk, *flags = row
    return PageTicket(
        pk,
        organization_id,
        cast(datetime, aware(updated)),  # NOT NULL
        aware(due),
        aware(responded),
        aware(sla_due),
        aware(at_risk),
        *flags,
    )


class TicketSource:
    """The page's ticket: its key columns now, the full row when rendering needs it.

    A warm GET renders nothing, so reads only the key; a fragment that misses
    reads the ticket once (``full``) for every part that renders. A submit has
    the full ticket already.
    """

    def __init__(self, key: PageTicket, ticket: Ticket | None = None) -> None:
        self.key = key
        self._ticket = ticket

    @classmethod
    def of(cls, ticket: Ticket) -> "TicketSource":
        return cls(PageTicket.of(ticket), ticket)

    def full(self) -> Ticket:
        """The ticket with its organisation, tier and requester (one query, once)."""
        if self._ticket is None:
            self._ticket = get_object_or_404(
                Ticket.objects.select_related(*FULL_RELATED), pk=self.key.pk
            )
        return self._ticket
