"""Reads about SLA clocks: the queue's states, "why this due time", attainment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone

from tickets.admin_sla import STATE_LABELS
from tickets.models import Ticket

from . import calendars, rules
from .models import ResponseClock, SlaRecomputation, SlaTransition


@dataclass(frozen=True)
class ClosedDate:
    day: date
    name: str


@dataclass(frozen=True)
class ClockExplanation:
    """Everything the admin shows to answer "why is this the due time?"."""

    clock: ResponseClock
    state: str
    calendar_name: str
    calendar_hours: str
    calendar_timezone: str
    uses_calendar: bool
    started_local: datetime
    due_local: datetime
    at_risk_local: datetime | None
    skipped: timedelta
    closed_dates: list[ClosedDate]
    transitions: list[SlaTransition] = field(default_factory=list)
    recomputations: list[SlaRecomputation] = field(default_factory=list)

    @property
    def skipped_text(self) -> str:
        return format_duration(self.skipped)

    @property
    def target_clock_label(self) -> str:
        return str(self.clock.get_target_clock_display())

    @property
    def state_label(self) -> str:
        """ "On track", not ``on_track``: the queue's own wording."""
        return str(STATE_LABELS.get(self.state, self.state))


def ticket_clocks_explained(
    ticket: Ticket, *, now: datetime | None = None
) -> list[ClockExplanation]:
    """Return each clock of a ticket with its start, target, calendar and skips.

    Three queries, whatever the number of clocks: clocks with calendars, their
    transitions, their recomputations.
    """
    now = now or timezone.now()
    clocks = (
        ResponseClock.objects.filter(ticket=ticket)
        .select_related("calendar")
        .prefetch_related(
            Prefetch("transitions", queryset=SlaTransition.objects.order_by("id")),
            Prefetch(
                "recomputations",
                queryset=SlaRecomputation.objects.select_related(
                    "priority_change__changed_by"
                ).order_by("id"),
            ),
        )
        .order_by("started_at", "id")
    )
    explained = []
    for clock in clocks:
        calendar = calendars.business_calendar(clock.calendar)
        zone = calendar.zone
        spec = clock.spec
        public = getattr(calendar.closed_dates, "public", None)
        closed = [
            ClosedDate(day, str(public.get(day)) if public and day in public else "")
            for day in (
                rules.closed_dates_between(clock.started_at, clock.due_at, calendar)
                if spec.uses_calendar
                else []
            )
        ]
        explained.append(
            ClockExplanation(
                clock=clock,
                state=clock.state(now),
                calendar_name=clock.calendar.name if clock.calendar else "Default",
                calendar_hours=calendars.describe_hours(calendar),
                calendar_timezone=calendar.timezone,
                uses_calendar=spec.uses_calendar,
                started_local=clock.started_at.astimezone(zone),
                due_local=clock.due_at.astimezone(zone),
                at_risk_local=(
                    clock.at_risk_at.astimezone(zone) if clock.at_risk_at else None
                ),
                skipped=rules.skipped_time(
                    clock.started_at, clock.due_at, spec, calendar
                ),
                closed_dates=closed,
                transitions=list(clock.transitions.all()),
                recomputations=list(clock.recomputations.all()),
            )
        )
    return explained


def format_duration(value: timedelta | None) -> str:
    """Write a duration the way a support engineer reads it: '2d 4h 30m'."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes or not parts:
        parts.append(f"{minutes}m")
    return " ".join(parts)


# --- attainment -----------------------------------------------------------------


@dataclass(frozen=True)
class AttainmentRow:
    """Outcomes of one tier and priority's clocks decided in the period.

    For a guaranteed target ``missed`` counts breaches; for a best-effort target
    (never a breach) it counts responses later than the soft target.
    """

    tier: str
    priority: int
    best_effort: bool
    met: int
    missed: int
    responses: int
    median: timedelta | None
    p95: timedelta | None

    @property
    def total(self) -> int:
        return self.met + self.missed

    @property
    def attainment(self) -> float | None:
        """Met as a percentage of the decided clocks (None when there are none)."""
        return 100.0 * self.met / self.total if self.total else None

    @property
    def label(self) -> str:
        return f"{self.tier} P{self.priority}"

    @property
    def median_text(self) -> str:
        return format_duration(self.median)

    @property
    def p95_text(self) -> str:
        return format_duration(self.p95)


@dataclass(frozen=True)
class AttainmentReport:
    start: datetime
    end: datetime
    rows: list[AttainmentRow]

    @property
    def met(self) -> int:
        return sum(row.met for row in self.rows if not row.best_effort)

    @property
    def breached(self) -> int:
        return sum(row.missed for row in self.rows if not row.best_effort)

    @property
    def attainment(self) -> float | None:
        """Guaranteed targets only: best effort is never reported as a breach."""
        total = self.met + self.breached
        return 100.0 * self.met / total if total else None


def percentile(sorted_values: list[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile (the smallest value with ``fraction`` at or below)."""
    if not sorted_values:
        return None
    rank = -(-int(fraction * 1000) * len(sorted_values) // 1000)  # ceil
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def sla_attainment(
    *, start: datetime, end: datetime, now: datetime | None = None
) -> AttainmentReport:
    """Count met and breached clocks per tier and priority for ``[start, end)``.

    A clock counts in the period in which its outcome was decided: a met clock when
    support responded, a breached (or, for best effort, late) one at its due time.
    Response times (start to support's reply, real time) are those of clocks
    answered in the period. One query; the statistics are computed here.
    """
    now = now or timezone.now()
    rows = (
        ResponseClock.objects.filter(due_at__gte=start, started_at__lt=end)
        .values_list(
            "tier__name",
            "tier__position",
            "priority",
            "guaranteed",
            "started_at",
            "due_at",
            "responded_at",
            "breached_at",
        )
        .order_by()
    )
    met: dict[tuple[int, str, int, bool], int] = defaultdict(int)
    missed: dict[tuple[int, str, int, bool], int] = defaultdict(int)
    durations: dict[tuple[int, str, int, bool], list[timedelta]] = defaultdict(list)
    for name, position, priority, guaranteed, started, due, responded, breached in rows:
        key = (position or 0, name or "—", priority, not guaranteed)
        if guaranteed:
            outcome_at = breached if breached is not None else responded
            was_met = breached is None
        elif responded is not None and responded <= due:
            outcome_at, was_met = responded, True
        else:
            outcome_at, was_met = (due if due <= now else None), False
        if outcome_at is not None and start <= outcome_at < end:
            (met if was_met else missed)[key] += 1
        if responded is not None and start <= responded < end:
            durations[key].append(responded - started)
    report_rows = []
    for key in sorted({*met, *missed, *durations}):
        _position, name, priority, best_effort = key
        values = sorted(durations.get(key, []))
        report_rows.append(
            AttainmentRow(
                tier=name,
                priority=priority,
                best_effort=best_effort,
                met=met.get(key, 0),
                missed=missed.get(key, 0),
                responses=len(values),
                median=percentile(values, 0.5),
                p95=percentile(values, 0.95),
            )
        )
    return AttainmentReport(start=start, end=end, rows=report_rows)
