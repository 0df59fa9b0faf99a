"""Starting, stopping and re-prioritising response clocks, in the ticket's transaction.

The ticket services call these with the ticket row locked (lock order: the
ticket first, then its clock).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime

from django.db.models import OuterRef, Subquery

from tickets.models import Comment, PriorityChange, Ticket

from ..models import (
    ClockKind,
    RecomputationReason,
    ResponseClock,
    SlaRecomputation,
    SlaTransition,
)
from .recompute import _recompute
from .terms import _apply_terms, _terms, _terms_for
from .ticket_copy import _sync_ticket
from .transitions import _crossed, _transitions_insert

logger = logging.getLogger(__name__)


def _new_clock(ticket: Ticket, kind: str, started_at: datetime) -> ResponseClock:
    return ResponseClock(ticket=ticket, kind=kind, started_at=started_at)


def _clocks_start(
    clocks: Sequence[ResponseClock],
    *,
    save_with: dict[int, list[str]] | None = None,
) -> None:
    """Point new clocks at their tickets' current terms, insert them, and copy
    each onto its ticket (saved here, or added to ``save_with[ticket.pk]``)."""
    if not clocks:
        return
    terms = _terms_for([(clock.ticket, clock.ticket.priority) for clock in clocks])
    for clock, found in zip(clocks, terms, strict=True):
        clock.tier_id = found.tier_id
        clock.calendar = found.calendar
        _apply_terms(
            clock,
            priority=clock.ticket.priority,
            target=found.target,
            spec=found.spec,
        )
    ResponseClock.objects.bulk_create(clocks)
    for clock in clocks:
        _sync_ticket(
            clock.ticket,
            clock,
            save_with=None if save_with is None else save_with[clock.ticket.pk],
        )


def _latest_clocks(
    ticket_ids: Collection[int], *, with_calendar: bool = True
) -> dict[int, ResponseClock]:
    """Lock and return each ticket's newest clock (the running one, if any).

    ``with_calendar=False`` skips the calendar join for callers that only stop or
    start clocks: a clock's deadline is recomputed only on reprioritisation.
    """
    newest = (
        ResponseClock.objects.filter(ticket_id=OuterRef("ticket_id"))
        .order_by("-started_at", "-id")
        .values("pk")[:1]
    )
    clocks = ResponseClock.objects.select_for_update(of=("self",))
    if with_calendar:
        clocks = clocks.select_related("calendar")
    return {
        clock.ticket_id: clock
        for clock in clocks.filter(ticket_id__in=ticket_ids, pk=Subquery(newest))
    }


def _latest_clock(
    ticket: Ticket, *, with_calendar: bool = True
) -> ResponseClock | None:
    return _latest_clocks([ticket.pk], with_calendar=with_calendar).get(ticket.pk)


def response_clock_start_first(*, ticket: Ticket) -> ResponseClock:
    """Start the first-response clock of a ticket that was just created.

    Call inside ``ticket_create``'s transaction. The clock starts at the ticket's
    creation time, against the target of the organisation's tier and the ticket's
    priority, on the organisation's calendar (or the default one). At most one
    first-response clock per ticket (unique constraint).
    """
    clock = _new_clock(ticket, ClockKind.FIRST_RESPONSE, ticket.created_at)
    _clocks_start([clock])
    return clock


def response_clocks_handle_comments(
    comments: Sequence[Comment], *, save_with: dict[int, list[str]] | None = None
) -> None:
    """Stop or start a clock for each new comment.

    Call inside the transaction that wrote the comments, with their tickets
    (``comment.ticket``) locked; comments on one ticket are taken in order.
    A public reply by staff (portal, admin, API or email) stops the running clock;
    a public comment by the customer after support's reply starts a next-response
    clock; internal notes and customer comments while a clock runs do nothing.
    A reply after the due time records the missed transitions on the spot, without
    notifications: the answer they would ask for has been given.
    ``save_with``: each ticket's list of fields still to save, by ticket id; the SLA
    fields are added to it rather than saved here, and the caller must save them.
    The reads and writes are one statement each for all the comments (the email
    gateway adds a batch of replies at once).
    """
    public = [comment for comment in comments if comment.is_public]
    latest = _latest_clocks({c.ticket_id for c in public}, with_calendar=False)
    stopped: list[tuple[ResponseClock, Ticket]] = []
    started: list[ResponseClock] = []
    missed: list[SlaTransition] = []
    for comment in public:
        clock = latest.get(comment.ticket_id)
        if clock is None:
            continue
        if comment.author.is_staff and clock.is_running:
            clock.responded_at = comment.created_at
            clock.response = comment
            missed.extend(_crossed(clock, comment.created_at, notify=False))
            stopped.append((clock, comment.ticket))
        elif not comment.author.is_staff and not clock.is_running:
            clock = _new_clock(
                comment.ticket, ClockKind.NEXT_RESPONSE, comment.created_at
            )
            latest[comment.ticket_id] = clock
            started.append(clock)
    if stopped:
        ResponseClock.objects.bulk_update(
            [clock for clock, _ticket in stopped],
            ["responded_at", "response", "at_risk_recorded_at", "breached_at"],
        )
        _transitions_insert(missed)
        for clock, ticket in stopped:
            _sync_ticket(
                ticket,
                clock,
                save_with=None if save_with is None else save_with[ticket.pk],
            )
    _clocks_start(started, save_with=save_with)


def response_clock_reprioritise(
    *, ticket: Ticket, change: PriorityChange
) -> SlaRecomputation | None:
    """Recompute the running clock for a new priority, next to the PriorityChange.

    Call inside ``ticket_priority_change``'s transaction, with the ticket locked.
    The clock keeps its start and swaps its target: due = start + new target on the
    clock's calendar. A due time already past is breached at once (recorded and
    notified now); a later one means a breach that was not yet recorded never is.
    A breach already recorded stays recorded. Returns None when no clock runs.
    """
    latest = _latest_clock(ticket)
    if latest is None or not latest.is_running:
        return None
    terms = _terms(ticket, change.to_priority)
    recomputations, _count = _recompute(
        [latest],
        terms_for=lambda _clock: (change.to_priority, terms.target, terms.spec),
        reason=RecomputationReason.PRIORITY_CHANGE,
        now=change.created_at,
        priority_change=change,
        tickets={ticket.pk: ticket},
    )
    return recomputations[0]
