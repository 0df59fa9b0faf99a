"""Changes to response targets and business calendars, applied to running clocks."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from scalr_support.accounts.models import User
from tickets.models import SupportTier

from .. import calendars, rules
from ..models import (
    BusinessCalendar,
    Clock,
    RecomputationReason,
    ResponseClock,
    ResponseTarget,
    SlaChangeAction,
    SlaChangeEntry,
    TargetUnit,
)
from .recompute import _recompute_running

logger = logging.getLogger(__name__)


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
    actor: User | None = None,
    now: datetime | None = None,
) -> TargetChange:
    """Create or change a tier's target for one priority; apply it to running clocks.

    Omitted ``clock`` and ``guaranteed`` are defaulted (``_spec_with_defaults``).
    Running clocks of that tier and priority keep their start and are recomputed
    with the new target from now on, each recomputation recorded; a due time now
    in the past is breached at once. A change records ``actor`` (None: the command
    line) in an ``SlaChangeEntry``, in the same transaction.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = (
            ResponseTarget.objects.select_for_update()
            .filter(tier=tier, priority=priority)
            .first()
        )
        previous = current.label if current is not None else None
        spec = _spec_with_defaults(
            tier=tier,
            priority=priority,
            amount=amount,
            unit=unit,
            clock=clock,
            guaranteed=guaranteed,
            current=current,
        )
        if current is not None and current.spec == spec:
            return TargetChange(target=current, previous=previous, recomputed=0)
        target = _target_save(tier=tier, priority=priority, spec=spec, current=current)
        recomputed = _recompute_running(
            ResponseClock.objects.filter(tier=tier, priority=priority),
            terms_for=lambda clock_: (priority, target, spec),
            reason=RecomputationReason.TARGET_CHANGE,
            now=now,
        )
        SlaChangeEntry.objects.create(
            target=target,
            actor=actor,
            action=SlaChangeAction.TARGET_SET,
            changes={"target": [previous, target.label]},
            recomputed=recomputed,
        )
    logger.info(
        "response target %s P%s set to %s; %s running clocks recomputed",
        tier.slug,
        priority,
        spec,
        recomputed,
    )
    return TargetChange(target=target, previous=previous, recomputed=recomputed)


def _spec_with_defaults(
    *,
    tier: SupportTier,
    priority: int,
    amount: int,
    unit: str,
    clock: str | None,
    guaranteed: bool | None,
    current: ResponseTarget | None,
) -> rules.TargetSpec:
    """The target asked for, with what was omitted filled in.

    An omitted clock keeps the current target's (a new one: 24x7 for P0-P2,
    business hours otherwise); business days always count business time. An
    omitted ``guaranteed`` keeps the current target's, or the tier's default.
    """
    if clock is None:
        if unit in (TargetUnit.BUSINESS_DAYS, TargetUnit.END_OF_BUSINESS_DAY):
            clock = Clock.BUSINESS
        elif current is not None:
            clock = current.clock
        else:
            clock = Clock.CONTINUOUS if priority <= 2 else Clock.BUSINESS
    if guaranteed is None:
        guaranteed = (
            current.guaranteed if current is not None else tier.guaranteed_response
        )
    return rules.TargetSpec(
        amount=amount, unit=unit, clock=clock, guaranteed=guaranteed
    )


def _target_save(
    *,
    tier: SupportTier,
    priority: int,
    spec: rules.TargetSpec,
    current: ResponseTarget | None,
) -> ResponseTarget:
    """Store the spec on the tier's target row, creating the row if there is none."""
    if current is None:
        return ResponseTarget.objects.create(
            tier=tier,
            priority=priority,
            amount=spec.amount,
            unit=spec.unit,
            clock=spec.clock,
            guaranteed=spec.guaranteed,
        )
    current.amount, current.unit = spec.amount, spec.unit
    current.clock, current.guaranteed = spec.clock, spec.guaranteed
    current.save(update_fields=["amount", "unit", "clock", "guaranteed"])
    return current


def business_calendar_changed(
    *,
    calendar: BusinessCalendar,
    actor: User | None = None,
    changed: Sequence[str] = (),
    now: datetime | None = None,
) -> int:
    """Publish a calendar edit: new version, and running clocks recomputed.

    Call after the calendar, its intervals and dates are saved (the admin does, in
    its transaction). Every process rebuilds its cached calendar on the next use
    because the version changed. Running clocks on this calendar whose target
    counts business time keep their start and get a new due time, recorded like a
    re-prioritisation. Records ``actor`` and the names of what ``changed`` (form
    fields, "working hours", "dates") in an ``SlaChangeEntry``. Returns how many
    clocks were recomputed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        old_version = calendar.version
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
        recomputed = _recompute_running(
            affected,
            terms_for=lambda clock: (clock.priority, clock.target, clock.spec),
            reason=RecomputationReason.CALENDAR_CHANGE,
            now=now,
        )
        SlaChangeEntry.objects.create(
            calendar=calendar,
            actor=actor,
            action=SlaChangeAction.CALENDAR_CHANGED,
            changes={
                "version": [str(old_version), str(calendar.version)],
                **{name: [None, "changed"] for name in changed},
            },
            recomputed=recomputed,
        )
    return recomputed
