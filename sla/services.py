"""Every write to response clocks, SLA transitions, targets and calendars.

Lock order, everywhere: the ticket row first, then its clock. The ticket services
hold the ticket lock when they call the three ``response_clock_*`` hooks; the
target and calendar changes lock the affected tickets before their clocks; the
sweep locks clocks only, skipping locked ones, and never writes a ticket, so it
cannot deadlock with either. The denormalised SLA fields on ``Ticket`` are written
here only, in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from scalr_support.common.tasks import enqueue_on_commit
from tickets.models import Comment, Organization, PriorityChange, SupportTier, Ticket

from . import calendars, rules
from .models import (
    BusinessCalendar,
    Clock,
    ClockKind,
    RecomputationReason,
    ResponseClock,
    ResponseTarget,
    SlaRecomputation,
    SlaTransition,
    TargetUnit,
    TransitionKind,
)
from .notify import transitions_notify

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 200

# Running clocks still waiting for a transition: the predicates of the sweep's
# partial indexes (sla_clock_at_risk_pending, sla_clock_breach_pending).
AT_RISK_PENDING = Q(
    responded_at__isnull=True,
    at_risk_recorded_at__isnull=True,
    at_risk_at__isnull=False,
)
BREACH_PENDING = Q(responded_at__isnull=True, breached_at__isnull=True, guaranteed=True)

# When no target is configured for a tier and priority, fall back to best effort by
# the end of the business day, so a ticket is never left without a due time.
FALLBACK_SPEC = rules.TargetSpec(
    amount=1,
    unit=TargetUnit.END_OF_BUSINESS_DAY,
    clock=Clock.BUSINESS,
    guaranteed=False,
)

# The ticket's copy of its current clock, and of its first-response clock.
_CURRENT_CLOCK_FIELDS = [
    "sla_due_at",
    "sla_at_risk_at",
    "sla_best_effort",
    "sla_breached",
]
TICKET_SLA_FIELDS = [
    "first_response_due_at",
    "first_responded_at",
    *_CURRENT_CLOCK_FIELDS,
]
# What the sweep reads of a clock: enough to decide its crossings.
_SWEEP_FIELDS = (
    "ticket_id",
    "guaranteed",
    "due_at",
    "at_risk_at",
    "at_risk_recorded_at",
    "breached_at",
)
_CLOCK_DEADLINE_FIELDS = [
    "priority",
    "target",
    "target_amount",
    "target_unit",
    "target_clock",
    "guaranteed",
    "due_at",
    "at_risk_at",
    "at_risk_recorded_at",
    "breached_at",
]


# Given a locked running clock: the (priority, target row, spec) it should run on.
TermsFor = Callable[
    [ResponseClock], tuple[int, "ResponseTarget | None", rules.TargetSpec]
]


@dataclass(frozen=True)
class _Terms:
    """What a clock of one ticket and priority runs against."""

    tier_id: int
    target: ResponseTarget | None
    spec: rules.TargetSpec
    calendar: BusinessCalendar | None


def _organizations_of(tickets: Sequence[Ticket]) -> dict[int, Organization]:
    """Each ticket's organisation, reusing the rows a caller already loaded.

    The email and portal paths read the organisation (with its tier) through the
    access gate in the same transaction; reading it again buys nothing. The rest
    come in one query.
    """
    field = Ticket._meta.get_field("organization")
    found = {
        ticket.organization_id: ticket.organization
        for ticket in tickets
        if field.is_cached(ticket)
    }
    missing = {ticket.organization_id for ticket in tickets} - found.keys()
    if missing:
        found.update(Organization.objects.in_bulk(missing))
    return found


def _terms_for(requests: Sequence[tuple[Ticket, int]]) -> list[_Terms]:
    """The terms of each (ticket, priority): one query for the targets, one for
    the calendars, however many tickets."""
    organizations = _organizations_of([ticket for ticket, _priority in requests])
    keys = {
        (organizations[ticket.organization_id].tier_id, priority)
        for ticket, priority in requests
    }
    targets: dict[tuple[int, int], ResponseTarget] = {}
    for row in ResponseTarget.objects.filter(
        tier_id__in={tier for tier, _ in keys},
        priority__in={priority for _, priority in keys},
    ).order_by("-pk"):
        targets[row.tier_id, row.priority] = row  # the lowest pk wins
    calendar_rows = calendars.calendar_rows_for(organizations.values())
    found = []
    for ticket, priority in requests:
        organization = organizations[ticket.organization_id]
        target = targets.get((organization.tier_id, priority))
        if target is None:
            logger.warning(
                "no response target for tier %s P%s; using best effort",
                organization.tier_id,
                priority,
            )
        found.append(
            _Terms(
                tier_id=organization.tier_id,
                target=target,
                spec=target.spec if target is not None else FALLBACK_SPEC,
                calendar=calendar_rows[organization.pk],
            )
        )
    return found


def _terms(ticket: Ticket, priority: int) -> _Terms:
    return _terms_for([(ticket, priority)])[0]


def _apply_terms(
    clock: ResponseClock,
    *,
    priority: int,
    target: ResponseTarget | None,
    spec: rules.TargetSpec,
) -> None:
    """Point a clock at a target and recompute its deadline from its start."""
    deadline = rules.deadline(
        clock.started_at, spec, calendars.business_calendar(clock.calendar)
    )
    clock.priority = priority
    clock.target = target
    clock.target_amount = spec.amount
    clock.target_unit = spec.unit
    clock.target_clock = spec.clock
    clock.guaranteed = spec.guaranteed
    clock.due_at = deadline.due_at
    clock.at_risk_at = deadline.at_risk_at


def _crossed(
    clock: ResponseClock, now: datetime, *, notify: bool
) -> list[SlaTransition]:
    """Return the transitions this clock has crossed by ``now`` and not recorded.

    Marks them recorded on the clock (in memory; the caller saves). An at-risk
    crossing found together with the breach is recorded without a notification:
    the breach notice supersedes it.
    """
    found = []
    breach = clock.guaranteed and clock.breached_at is None and clock.due_at <= now
    if (
        clock.at_risk_at is not None
        and clock.at_risk_recorded_at is None
        and clock.at_risk_at <= now
    ):
        clock.at_risk_recorded_at = now
        found.append(
            SlaTransition(
                clock=clock,
                kind=TransitionKind.AT_RISK,
                occurred_at=clock.at_risk_at,
                recorded_at=now,
                notify=notify and not breach,
            )
        )
    if breach:
        clock.breached_at = clock.due_at
        found.append(
            SlaTransition(
                clock=clock,
                kind=TransitionKind.BREACH,
                occurred_at=clock.due_at,
                recorded_at=now,
                notify=notify,
            )
        )
    return found


def _transitions_insert(rows: list[SlaTransition]) -> list[SlaTransition]:
    """Insert transitions, skipping any (clock, kind) already recorded.

    ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (clock, kind) pair: the
    database settles a race between two writers. Returns the rows this call
    inserted, read back by their shared ``recorded_at``.
    """
    if not rows:
        return []
    SlaTransition.objects.bulk_create(rows, ignore_conflicts=True)
    wanted = {(row.clock_id, row.kind): row for row in rows}
    stored = SlaTransition.objects.filter(
        clock_id__in={row.clock_id for row in rows},
        recorded_at__in={row.recorded_at for row in rows},
    ).only("clock_id", "kind", "recorded_at", "notify")
    return [
        transition
        for transition in stored
        if (transition.clock_id, transition.kind) in wanted
        and transition.recorded_at
        == wanted[(transition.clock_id, transition.kind)].recorded_at
    ]


def _notify_on_commit(inserted: list[SlaTransition]) -> None:
    """Have the notification task run after commit if anything needs telling.

    One message for the whole batch; if it is lost, the next sweep finds the rows
    still unmarked (``sla_notifications_queue``), so a lost message is a delay.
    """
    if any(transition.notify for transition in inserted):
        from .tasks import sla_notify

        enqueue_on_commit(sla_notify)


def _sync_ticket(
    ticket: Ticket, clock: ResponseClock, *, save_with: list[str] | None = None
) -> None:
    """Copy the current clock onto the ticket's SLA fields and save them.

    With ``save_with``, the fields are added to that list instead, for a caller
    that saves the locked ticket once after this (one UPDATE, not two).
    """
    running = clock.is_running
    ticket.sla_due_at = clock.due_at if running else None
    ticket.sla_at_risk_at = clock.at_risk_at if running else None
    ticket.sla_best_effort = not clock.guaranteed
    ticket.sla_breached = clock.breached_at is not None
    fields = _CURRENT_CLOCK_FIELDS
    if clock.kind == ClockKind.FIRST_RESPONSE:
        ticket.first_response_due_at = clock.due_at
        ticket.first_responded_at = clock.responded_at
        fields = TICKET_SLA_FIELDS
    if save_with is None:
        ticket.save(update_fields=fields)
    else:
        save_with.extend(f for f in fields if f not in save_with)


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


def _recompute(
    clocks: list[ResponseClock],
    *,
    terms_for: TermsFor,
    reason: str,
    now: datetime,
    tickets: dict[int, Ticket],
    priority_change: PriorityChange | None = None,
) -> tuple[list[SlaRecomputation], int]:
    """Recompute locked running clocks; record each recomputation and crossing.

    ``terms_for(clock)`` gives (priority, target, spec). Tickets must be locked by
    the caller. Returns the recomputation rows and how many transitions were
    recorded.
    """
    recomputations = []
    crossings: list[SlaTransition] = []
    for clock in clocks:
        old_due, old_label = clock.due_at, clock.target_label
        priority, target, spec = terms_for(clock)
        _apply_terms(clock, priority=priority, target=target, spec=spec)
        recomputations.append(
            SlaRecomputation(
                clock=clock,
                reason=reason,
                priority_change=priority_change,
                old_target=old_label,
                new_target=clock.target_label,
                old_due_at=old_due,
                new_due_at=clock.due_at,
                created_at=now,
            )
        )
        crossings.extend(_crossed(clock, now, notify=True))
    ResponseClock.objects.bulk_update(clocks, _CLOCK_DEADLINE_FIELDS)
    SlaRecomputation.objects.bulk_create(recomputations)
    inserted = _transitions_insert(crossings)
    _notify_on_commit(inserted)
    for clock in clocks:
        _sync_ticket(tickets[clock.ticket_id], clock)
    return recomputations, len(inserted)


def _recompute_running(
    clocks: QuerySet[ResponseClock],
    *,
    terms_for: TermsFor,
    reason: str,
    now: datetime,
) -> int:
    """Lock the tickets of running clocks, then the clocks, and recompute them."""
    ticket_ids = list(
        clocks.filter(responded_at__isnull=True).values_list("ticket_id", flat=True)
    )
    if not ticket_ids:
        return 0
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update()
        .filter(pk__in=ticket_ids)
        .order_by("pk")
    }
    locked = list(
        clocks.filter(responded_at__isnull=True, ticket_id__in=tickets)
        .select_for_update(of=("self",))
        .select_related("calendar")
        .order_by("pk")
    )
    _recompute(locked, terms_for=terms_for, reason=reason, now=now, tickets=tickets)
    return len(locked)


@dataclass(frozen=True)
class TargetChange:
    target: ResponseTarget
    previous: str | None
    recomputed: int


def response_target_set(
    *,
    tier: SupportTier,
    priority: int,
    amount: int,
    unit: str,
    clock: str | None = None,
    guaranteed: bool | None = None,
    now: datetime | None = None,
) -> TargetChange:
    """Create or change a tier's target for one priority; apply it to running clocks.

    Omitted ``clock`` and ``guaranteed`` keep the existing target's (for a new
    target: 24x7 for minutes and hours at P0-P2, business hours otherwise; and the
    tier's ``guaranteed_response``). Business days always count business time.
    Running clocks of that tier and priority keep their start and are recomputed
    with the new target from now on, each recomputation recorded; a due time now
    in the past is breached at once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        target = (
            ResponseTarget.objects.select_for_update()
            .filter(tier=tier, priority=priority)
            .first()
        )
        previous = target.label if target is not None else None
        if clock is None:
            if unit in (TargetUnit.BUSINESS_DAYS, TargetUnit.END_OF_BUSINESS_DAY):
                clock = Clock.BUSINESS
            elif target is not None:
                clock = target.clock
            else:
                clock = Clock.CONTINUOUS if priority <= 2 else Clock.BUSINESS
        if guaranteed is None:
            guaranteed = (
                target.guaranteed if target is not None else tier.guaranteed_response
            )
        spec = rules.TargetSpec(
            amount=amount, unit=unit, clock=clock, guaranteed=guaranteed
        )
        if target is None:
            target = ResponseTarget.objects.create(
                tier=tier,
                priority=priority,
                amount=amount,
                unit=unit,
                clock=clock,
                guaranteed=guaranteed,
            )
        elif target.spec == spec:
            return TargetChange(target=target, previous=previous, recomputed=0)
        else:
            target.amount, target.unit = amount, unit
            target.clock, target.guaranteed = clock, guaranteed
            target.save(update_fields=["amount", "unit", "clock", "guaranteed"])
        recomputed = _recompute_running(
            ResponseClock.objects.filter(tier=tier, priority=priority),
            terms_for=lambda clock_: (priority, target, spec),
            reason=RecomputationReason.TARGET_CHANGE,
            now=now,
        )
    logger.info(
        "response target %s P%s set to %s; %s running clocks recomputed",
        tier.slug,
        priority,
        spec,
        recomputed,
    )
    return TargetChange(target=target, previous=previous, recomputed=recomputed)


def business_calendar_changed(
    *, calendar: BusinessCalendar, now: datetime | None = None
) -> int:
    """Publish a calendar edit: new version, and running clocks recomputed.

    Call after the calendar, its intervals and dates are saved (the admin does, in
    its transaction). Every process rebuilds its cached calendar on the next use
    because the version changed. Running clocks on this calendar whose target
    counts business time keep their start and get a new due time, recorded like a
    re-prioritisation. Returns how many clocks were recomputed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        BusinessCalendar.objects.filter(pk=calendar.pk).update(version=F("version") + 1)
        calendar.refresh_from_db(fields=["version"])
        calendars.forget(calendar.pk)
        affected = ResponseClock.objects.filter(calendar=calendar).filter(
            Q(target_clock=Clock.BUSINESS)
            | Q(
                target_unit__in=[
                    TargetUnit.BUSINESS_DAYS,
                    TargetUnit.END_OF_BUSINESS_DAY,
                ]
            )
        )
        return _recompute_running(
            affected,
            terms_for=lambda clock: (clock.priority, clock.target, clock.spec),
            reason=RecomputationReason.CALENDAR_CHANGE,
            now=now,
        )


def sla_transitions_record(
    *, now: datetime | None = None, batch_size: int = SWEEP_BATCH
) -> int:
    """The sweep: record every at-risk and breach crossing due by ``now``, once.

    Reads only clocks waiting for a transition whose threshold has passed (two
    range scans on partial indexes), so its cost follows the number of crossings,
    not of open tickets. Safe to run concurrently and after a gap: clocks are
    taken with ``SKIP LOCKED``, each recorded transition takes the clock out of its
    index, and the unique (clock, kind) pair makes a second record impossible.
    The transitions are the notification outbox: the ``sla_notify`` task, sent on
    commit, turns them into emails. Returns how many transitions were recorded.
    """
    now = now or timezone.now()
    total = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        recorded, more = _sweep_batch(now, batch_size)
        total += recorded
        if not more:
            break
    if total:
        logger.info("sla sweep recorded %s transitions", total)
    return total


def _sweep_batch(now: datetime, batch_size: int) -> tuple[int, bool]:
    with transaction.atomic(durable=True):
        pending = ResponseClock.objects.select_for_update(
            skip_locked=True, of=("self",)
        ).only(*_SWEEP_FIELDS)
        at_risk = list(
            pending.filter(AT_RISK_PENDING, at_risk_at__lte=now).order_by("at_risk_at")[
                :batch_size
            ]
        )
        breach = list(
            pending.filter(BREACH_PENDING, due_at__lte=now).order_by("due_at")[
                :batch_size
            ]
        )
        clocks = {clock.pk: clock for clock in (*at_risk, *breach)}
        rows: list[SlaTransition] = []
        for clock in clocks.values():
            rows.extend(_crossed(clock, now, notify=True))
        inserted = _transitions_insert(rows)
        _mark_recorded(rows, now)
        _notify_on_commit(inserted)
    more = len(at_risk) == batch_size or len(breach) == batch_size
    return len(inserted), more


def _mark_recorded(rows: list[SlaTransition], now: datetime) -> None:
    """Take clocks out of the sweep's partial indexes: one UPDATE per batch.

    One statement, and one new row version per clock even when both of its
    transitions were recorded at once.
    """
    at_risk = [row.clock_id for row in rows if row.kind == TransitionKind.AT_RISK]
    breach = [row.clock_id for row in rows if row.kind == TransitionKind.BREACH]
    if not rows:
        return
    ResponseClock.objects.filter(pk__in={*at_risk, *breach}).update(
        at_risk_recorded_at=Case(
            When(pk__in=at_risk, then=Value(now)), default=F("at_risk_recorded_at")
        ),
        breached_at=Case(
            When(pk__in=breach, then=F("due_at")), default=F("breached_at")
        ),
    )


NOTIFY_BATCH = 100


def sla_notifications_queue(*, now: datetime | None = None) -> int:
    """Turn recorded transitions into email notifications, each exactly once.

    Claims unmarked transitions (``notify`` and no ``notified_at``) with ``SKIP
    LOCKED``, queues their emails through the notifications outbox and marks them,
    in one transaction per batch: a transition is marked if and only if its
    delivery rows exist. The deliveries are also unique per ``sla_transition:<id>``
    and recipient, so even a replayed batch mails nobody twice. Returns how many
    transitions were notified.
    """
    now = now or timezone.now()
    total = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        with transaction.atomic(durable=True):
            pending = list(
                SlaTransition.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(notify=True, notified_at__isnull=True)
                .select_related(
                    "clock__ticket__assignee", "clock__ticket__organization"
                )
                .order_by("recorded_at", "id")[:NOTIFY_BATCH]
            )
            queued = transitions_notify(pending)
            SlaTransition.objects.filter(pk__in=queued).update(notified_at=now)
        total += len(queued)
        if len(pending) < NOTIFY_BATCH:
            break
    return total
