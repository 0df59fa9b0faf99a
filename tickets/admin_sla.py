"""The ticket queues' SLA wording, column and filter (admin and workspace).

Read from the ticket's denormalised clock fields only (``sla_state``), so the
queues need nothing from ``sla``; its admin and "why this due time" panel use
the same labels.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import sla_state
from .models import Ticket
from .selectors import tickets_in_sla_state

STATE_LABELS = {
    sla_state.ON_TRACK: _("On track"),
    sla_state.AT_RISK: _("At risk"),
    sla_state.BREACHED: _("Breached"),
    sla_state.MET: _("Met"),
    sla_state.BEST_EFFORT: _("Best effort"),
}


class SlaStateFilter(admin.SimpleListFilter):
    title = _("SLA state")
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(state, STATE_LABELS[state]) for state in sla_state.SLA_STATES]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Ticket]
    ) -> QuerySet[Ticket]:
        value = self.value()
        if value is not None and value in sla_state.SLA_STATES:
            return tickets_in_sla_state(queryset, value)
        return queryset


@admin.display(description=_("Due"), ordering="sla_due_at")
def sla_due_column(ticket: Ticket) -> str:
    """The running clock's due time (a soft target for best effort)."""
    if ticket.sla_due_at is None:
        return "—"
    due = timezone.localtime(ticket.sla_due_at).strftime("%d %b %H:%M %Z")
    if ticket.sla_best_effort:
        return format_html('{} <span class="sla-soft">{}</span>', due, _("soft"))
    return due


@admin.display(description=_("SLA"))
def sla_state_column(ticket: Ticket) -> str:
    state = ticket.sla_state
    if state is None:
        return "—"
    return format_html(
        '<span class="sla-state sla-{}">{}</span>', state, STATE_LABELS[state]
    )
