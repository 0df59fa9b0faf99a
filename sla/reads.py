"""The SLA reads tickets' pages show (``tickets.sla_reads.SlaReads``).

Registered in ``SlaConfig.ready``; each method is one of sla's public reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest

from tickets.models import Organization, SupportTier, Ticket

from . import expectations, selectors
from .models import ResponseTarget


class ResponseTargetInline(admin.TabularInline):
    """Shown for reference; targets are edited under SLA so running clocks follow."""

    model = ResponseTarget
    extra = 0
    fields = ("priority", "amount", "unit", "clock", "guaranteed")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SlaReadsProvider:
    def clocks_explained(self, ticket: Ticket) -> Sequence[Any]:
        return selectors.ticket_clocks_explained(ticket)

    def ticket_expectations(self, ticket: Ticket) -> Any:
        return expectations.ticket_expectations(ticket)

    def business_hours(self, organization: Organization) -> Any:
        return expectations.business_hours(organization)

    def targets_by_priority(self, tier_id: int) -> Mapping[int, ResponseTarget]:
        return {
            target.priority: target
            for target in ResponseTarget.objects.filter(tier_id=tier_id).select_related(
                "tier"
            )
        }

    def due_if_opened_now(
        self, organization: Organization, target: ResponseTarget
    ) -> datetime:
        return expectations.due_if_opened_now(organization, target)

    def tiers_with_targets(self) -> QuerySet[SupportTier]:
        return SupportTier.objects.prefetch_related(
            Prefetch(
                "response_targets",
                queryset=ResponseTarget.objects.order_by("priority"),
            )
        ).order_by("position", "name")

    def tier_inlines(self) -> Sequence[type[InlineModelAdmin[Any, Any]]]:
        return [ResponseTargetInline]
