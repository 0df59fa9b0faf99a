"""SLA data: response targets, business calendars, response clocks and their history.

Pure arithmetic in ``calculations.py``, rules in ``rules.py``, writes in ``services``.
"""

from datetime import datetime, time

import holidays
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets.choices import Priority
from tickets.models import validate_timezone

from . import rules


class Clock(models.TextChoices):
    CONTINUOUS = "24x7", _("24x7")
    BUSINESS = "business", _("Business hours")


class TargetUnit(models.TextChoices):
    MINUTES = "m", _("minutes")
    HOURS = "h", _("hours")
    BUSINESS_DAYS = "bd", _("business days")
    END_OF_BUSINESS_DAY = "eod", _("end of the business day")


class ResponseTarget(models.Model):
    """The maximum time to a response for one tier and priority.

    Not guaranteed: best effort, shown and used to order the queue, never a breach.
    """

    tier = models.ForeignKey(
        "tickets.SupportTier", on_delete=models.CASCADE, related_name="response_targets"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    amount = models.PositiveIntegerField(default=1)
    unit = models.CharField(max_length=3, choices=TargetUnit.choices)
    clock = models.CharField(max_length=10, choices=Clock.choices)
    guaranteed = models.BooleanField(default=True)

    class Meta:
        ordering = ("tier", "priority")
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "priority"], name="one_target_per_tier_priority"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="target_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} P{self.priority}: {self.label}"

    @property
    def label(self) -> str:
        """Say the target the way the policy does ('2 hours', '1 business day')."""
        if self.unit == TargetUnit.END_OF_BUSINESS_DAY:
            text = str(_("Same business day"))
        elif self.unit == TargetUnit.MINUTES:
            text = ngettext("%(n)d minute", "%(n)d minutes", self.amount) % {
                "n": self.amount
            }
        elif self.unit == TargetUnit.HOURS:
            text = ngettext("%(n)d hour", "%(n)d hours", self.amount) % {
                "n": self.amount
            }
        else:
            text = ngettext(
                "%(n)d business day", "%(n)d business days", self.amount
            ) % {"n": self.amount}
        if not self.guaranteed:
            return str(_("%(target)s (best effort, not guaranteed)")) % {"target": text}
        return text

    @property
    def spec(self) -> rules.TargetSpec:
        """Return the target as the plain value the rules compute with."""
        return rules.TargetSpec(
            amount=self.amount,
            unit=self.unit,
            clock=self.clock,
            guaranteed=self.guaranteed,
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def validate_holiday_country(value: str) -> None:
    if value and value.upper() not in holidays.list_supported_countries():
        raise ValidationError(
            _("%(value)s is not a country code known to the holidays package."),
            params={"value": value},
        )


class BusinessCalendar(models.Model):
    """When support works for an organisation: the hours business targets count.

    ``version`` goes up with every change (``services.business_calendar_changed``)
    so that each process's cache of the computed calendar (``calendars.py``) knows
    when to rebuild, without any cross-process signalling.
    """

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text=_("IANA timezone of the working hours, e.g. Europe/Berlin."),
    )
    holiday_country = models.CharField(
        max_length=3,
        blank=True,
        validators=[validate_holiday_country],
        help_text=_("ISO country code whose public holidays are closed, e.g. US."),
    )
    holiday_subdivision = models.CharField(
        max_length=10,
        blank=True,
        help_text=_("Optional state or region of that country, e.g. CA or BY."),
    )
    is_default = models.BooleanField(
        default=False,
        help_text=_("Used for every organisation without a calendar of its own."),
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-is_default", "name")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="one_default_business_calendar",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.holiday_country = self.holiday_country.upper()
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError(
                {"holiday_subdivision": _("Choose the holiday country first.")}
            )
        if self.holiday_country and self.holiday_subdivision:
            supported = holidays.list_supported_countries().get(
                self.holiday_country, []
            )
            if self.holiday_subdivision not in supported:
                raise ValidationError(
                    {
                        "holiday_subdivision": _(
                            "%(country)s has no subdivision %(subdivision)s."
                        )
                        % {
                            "country": self.holiday_country,
                            "subdivision": self.holiday_subdivision,
                        }
                    }
                )


class WorkingInterval(models.Model):
    """One stretch of working hours on one weekday, in the calendar's timezone.

    Several per weekday make a split shift; an end of 00:00 means midnight at the
    end of the day.
    """

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        ordering = ("calendar", "weekday", "start")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__lte=6), name="working_interval_weekday"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")) | Q(end=time(0)),
                name="working_interval_starts_before_end",
            ),
        ]

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0) else self.end.strftime("%H:%M")
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{end}"

    def clean(self) -> None:
        if (
            self.start is not None
            and self.end is not None
            and not (self.end > self.start or self.end == time(0))
        ):
            raise ValidationError({"end": _("The interval must end after it starts.")})


class CalendarDate(models.Model):
    """A dated exception: an extra closure, or a holiday that is worked anyway."""

    class Kind(models.TextChoices):
        CLOSED = "closed", _("Closed (extra holiday)")
        OPEN = "open", _("Open (ignore the holiday)")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="dates"
    )
    date = models.DateField()
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.CLOSED)
    note = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("calendar", "date")
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="one_exception_per_calendar_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


class ClockKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")


class ResponseClock(models.Model):
    """One wait for support's public reply, with the target it runs against.

    A clock snapshots its target and calendar when it starts, so later changes to
    the tier's targets or to the organisation's calendar do not silently rewrite it;
    they reach it only through a recorded recomputation (``SlaRecomputation``).
    ``at_risk_recorded_at`` and ``breached_at`` mirror the ``SlaTransition`` rows so
    that the sweep's partial indexes hold only clocks still waiting for one.
    """

    # Foreign keys without their own index where another index leads with them
    # (ticket) or they are read only for running clocks (tier, calendar, below):
    # every index costs the sweep's updates a write per row.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.CASCADE,
        related_name="response_clocks",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=ClockKind.choices)
    started_at = models.DateTimeField()
    tier = models.ForeignKey(
        "tickets.SupportTier",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    target = models.ForeignKey(
        ResponseTarget,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
    )
    target_amount = models.PositiveIntegerField()
    target_unit = models.CharField(max_length=3, choices=TargetUnit.choices)
    target_clock = models.CharField(max_length=10, choices=Clock.choices)
    guaranteed = models.BooleanField()
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=False,
    )
    due_at = models.DateTimeField()
    at_risk_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty for best-effort targets.")
    )
    at_risk_recorded_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The due time that was missed, once the breach is recorded."),
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    response = models.ForeignKey(
        "tickets.Comment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("started_at", "id")
        indexes = [
            # The sweep's two range scans read only clocks still waiting for a
            # transition; met and already-recorded clocks are not in these indexes.
            models.Index(
                fields=["at_risk_at"],
                name="sla_clock_at_risk_pending",
                condition=Q(
                    responded_at__isnull=True,
                    at_risk_recorded_at__isnull=True,
                    at_risk_at__isnull=False,
                ),
            ),
            models.Index(
                fields=["due_at"],
                name="sla_clock_breach_pending",
                condition=Q(
                    responded_at__isnull=True,
                    breached_at__isnull=True,
                    guaranteed=True,
                ),
            ),
            models.Index(fields=["ticket", "started_at"], name="sla_clock_ticket"),
            models.Index(fields=["due_at"], name="sla_clock_due"),
            # Target and calendar changes recompute the running clocks they reach.
            models.Index(
                fields=["tier", "priority"],
                name="sla_clock_running_target",
                condition=Q(responded_at__isnull=True),
            ),
            models.Index(
                fields=["calendar"],
                name="sla_clock_running_calendar",
                condition=Q(responded_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(responded_at__isnull=True),
                name="one_running_clock_per_ticket",
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(kind="first_response"),
                name="one_first_response_clock_per_ticket",
            ),
        ]
        permissions = [("report_responseclock", "Can view the SLA attainment report")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} clock of ticket {self.ticket_id}"

    @property
    def spec(self) -> rules.TargetSpec:
        return rules.TargetSpec(
            amount=self.target_amount,
            unit=self.target_unit,
            clock=self.target_clock,
            guaranteed=self.guaranteed,
        )

    @property
    def target_label(self) -> str:
        """Say the snapshotted target as the policy does ('2 hours')."""
        return ResponseTarget(
            amount=self.target_amount,
            unit=self.target_unit,
            clock=self.target_clock,
            guaranteed=self.guaranteed,
        ).label

    @property
    def is_running(self) -> bool:
        return self.responded_at is None

    def state(self, now: datetime) -> str:
        """Return this clock's SLA state at ``now`` (see ``rules.sla_state``)."""
        return (
            rules.sla_state(
                now=now,
                has_clock=True,
                best_effort=not self.guaranteed,
                breached=self.breached_at is not None,
                due_at=self.due_at if self.is_running else None,
                at_risk_at=self.at_risk_at if self.is_running else None,
            )
            or rules.ON_TRACK
        )


class TransitionKind(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    BREACH = "breach", _("Breached")


class SlaTransition(models.Model):
    """A clock crossed its at-risk or its breach threshold: recorded exactly once.

    The unique (clock, kind) pair is the idempotency key of the sweep and of the
    notification that goes with it: however many sweeps see the crossing, one row.
    ``occurred_at`` is the threshold itself, ``recorded_at`` when it was noticed (late
    after a beat outage). Rows with ``notify`` set and no ``notified_at`` are the SLA's
    notification outbox (``services.sla_notifications_queue``).
    """

    clock = models.ForeignKey(
        ResponseClock,
        on_delete=models.CASCADE,
        related_name="transitions",
        db_index=False,  # the unique (clock, kind) index leads with it
    )
    kind = models.CharField(max_length=10, choices=TransitionKind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    notify = models.BooleanField(
        default=True,
        help_text=_(
            "False when nobody needs telling: a late reply already answered it, or "
            "a breach recorded at the same time supersedes the at-risk warning."
        ),
    )
    notified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When its email notifications were queued (the outbox mark)."),
    )

    class Meta:
        ordering = ("recorded_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "kind"], name="one_transition_per_clock_kind"
            ),
        ]
        indexes = [
            models.Index(
                fields=["recorded_at"],
                name="sla_transition_to_notify",
                condition=Q(notify=True, notified_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of clock {self.clock_id}"


class RecomputationReason(models.TextChoices):
    PRIORITY_CHANGE = "priority_change", _("Priority changed")
    TARGET_CHANGE = "target_change", _("Response target changed")
    CALENDAR_CHANGE = "calendar_change", _("Business calendar changed")


class SlaRecomputation(models.Model):
    """A running clock's due time was recomputed: from what, to what, and why."""

    clock = models.ForeignKey(
        ResponseClock, on_delete=models.CASCADE, related_name="recomputations"
    )
    reason = models.CharField(max_length=20, choices=RecomputationReason.choices)
    priority_change = models.ForeignKey(
        "tickets.PriorityChange",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_recomputations",
    )
    old_target = models.CharField(max_length=100)
    new_target = models.CharField(max_length=100)
    old_due_at = models.DateTimeField()
    new_due_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: clock {self.clock_id}"


from .audit_models import SlaChangeAction, SlaChangeEntry  # noqa: E402, F401
