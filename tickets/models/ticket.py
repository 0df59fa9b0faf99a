"""The ticket, and the counter its numbers come from."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.timezone import now as timezone_now
from django.utils.translation import gettext_lazy as _

from ..choices import Category, Deployment, Priority, ScopeExclusion, Status
from ..sla_state import sla_state_of
from .customers import Organization

# choices.ACTIVE_STATUSES in a fixed order, for the partial indexes' conditions:
# a migration compares them as written, and a set has no order.
ACTIVE_STATUS_VALUES = ["new", "open", "waiting_on_customer", "on_hold"]


class TicketCounter(models.Model):
    """The last ticket number handed out.

    One row, incremented inside the creating transaction: numbers are sequential and
    gapless because a rolled-back ticket gives its number back.
    """

    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)


class Ticket(models.Model):
    number = models.PositiveIntegerField(unique=True, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="tickets"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_tickets",
    )
    subject = models.CharField(max_length=200)
    description = models.TextField()
    description_html = models.TextField(editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    category = models.CharField(max_length=20, choices=Category.choices)
    deployment = models.CharField(max_length=10, choices=Deployment.choices)
    version_reported = models.CharField(max_length=40, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        limit_choices_to={"is_staff": True},
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(db_index=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    follow_up_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        help_text=_("The closed ticket this one continues."),
    )
    # SLA, denormalised from the ticket's response clocks by sla.services only (in
    # the same transaction) so that the queue and the API read one row.
    first_response_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_responded_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_at_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_best_effort = models.BooleanField(default=False, editable=False)
    sla_breached = models.BooleanField(default=False, editable=False)
    email_message_id = models.CharField(
        max_length=998,
        blank=True,
        help_text=_("Message-ID of the email that opened this ticket."),
    )
    scope_exclusion = models.CharField(
        _("outside the support scope"),
        max_length=20,
        choices=ScopeExclusion.choices,
        blank=True,
        help_text=_(
            "Set when the ticket concerns something the policy does not cover; "
            "the customer sees the policy's reason."
        ),
    )
    # The last day the reported version's major release is supported (empty while
    # it is current or unknown); kept up to date by tickets.lifecycle when
    # releases change, so the queue and the ticket page need no extra query.
    version_support_ends_on = models.DateField(
        null=True, blank=True, editable=False, db_index=True
    )

    class Meta:
        ordering = ("-last_activity_at",)
        indexes = [
            models.Index(
                fields=["organization", "-last_activity_at"], name="ticket_org_activity"
            ),
            models.Index(fields=["priority", "created_at"], name="ticket_queue"),
            models.Index(
                fields=["solved_at"],
                name="ticket_solved_pending_close",
                condition=Q(status="solved"),
            ),
            models.Index(
                fields=["priority", "sla_best_effort", "sla_due_at"],
                name="ticket_sla_queue",
            ),
            # The workspace's open tabs (tickets.workspace.queues): a few thousand
            # open tickets among all the solved and closed ones, in the queue's
            # whole order (sla_due_at ascending puts nulls last, as it asks), so a
            # page is read in index order and the LIMIT stops the scan: no sort.
            models.Index(
                fields=[
                    "priority",
                    "sla_best_effort",
                    "sla_due_at",
                    "created_at",
                    "id",
                ],
                name="ticket_open_order",
                condition=Q(status__in=ACTIVE_STATUS_VALUES),
            ),
            # "My open" and "Unassigned" (assignee IS NULL) in the same order.
            models.Index(
                fields=[
                    "assignee",
                    "priority",
                    "sla_best_effort",
                    "sla_due_at",
                    "created_at",
                    "id",
                ],
                name="ticket_assignee_order",
                condition=Q(status__in=ACTIVE_STATUS_VALUES),
            ),
            # Counting a tier's open tickets (the queue's tier filter) reads
            # this, not the whole table.
            models.Index(
                fields=["organization"],
                name="ticket_open_organization",
                condition=Q(status__in=ACTIVE_STATUS_VALUES),
            ),
            # The "Breaching soon" and "Breached" tabs (selectors'
            # tickets_in_sla_state): each reads the few tickets in its state
            # instead of every open ticket with a clock (then sorts those few).
            models.Index(
                fields=["sla_at_risk_at"],
                name="ticket_open_at_risk",
                condition=Q(
                    status__in=ACTIVE_STATUS_VALUES,
                    sla_best_effort=False,
                    sla_breached=False,
                ),
            ),
            models.Index(
                fields=["sla_due_at"],
                name="ticket_open_due",
                condition=Q(
                    status__in=ACTIVE_STATUS_VALUES,
                    sla_best_effort=False,
                ),
            ),
            models.Index(
                fields=["id"],
                name="ticket_open_breached",
                condition=Q(
                    status__in=ACTIVE_STATUS_VALUES,
                    sla_breached=True,
                ),
            ),
            # The "Solved/closed" tab's order, newest activity first.
            models.Index(
                fields=["-last_activity_at", "-id"],
                name="ticket_done_order",
                condition=Q(status__in=["solved", "closed"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=0, priority__lte=4),
                name="ticket_priority_0_4",
            ),
            # However often an email is delivered, it opens one ticket.
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="one_ticket_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def reference(self) -> str:
        return f"#{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.SOLVED, Status.CLOSED)

    def sla_state_at(self, now: datetime) -> str | None:
        """Return on_track, at_risk, breached, met or best_effort (None: no clock)."""
        return sla_state_of(self, now)

    @property
    def sla_state(self) -> str | None:
        return self.sla_state_at(timezone_now())
