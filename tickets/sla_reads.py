"""What tickets' pages read from the SLA app, through a provider it registers.

Tickets may not import ``sla`` (sla builds on tickets), yet its pages show the
response targets, the business hours and "why this due time". So ``sla``
registers one provider of these reads in ``SlaConfig.ready`` and tickets' views
ask it; the objects it returns are only rendered (templates, serializers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from django.contrib.admin.options import InlineModelAdmin
from django.db.models import QuerySet

from .models import Organization, SupportTier, Ticket


class SlaReads(Protocol):
    """The SLA values tickets' portal, admin and API pages show."""

    def clocks_explained(self, ticket: Ticket) -> Sequence[Any]:
        """Each clock of the ticket with the reasons for its due time."""

    def ticket_expectations(self, ticket: Ticket) -> Any:
        """The target the ticket runs against (``target``) and its ``hours``."""

    def business_hours(self, organization: Organization) -> Any:
        """The organisation's working hours, holiday rule and closures ahead."""

    def targets_by_priority(self, tier_id: int) -> Mapping[int, Any]:
        """The tier's response targets (``.label``, ``.guaranteed``) by priority."""

    def due_if_opened_now(self, organization: Organization, target: Any) -> datetime:
        """When the first response to a ticket opened now would be due."""

    def tiers_with_targets(self) -> QuerySet[SupportTier]:
        """Every tier, cheapest first, with ``response_targets`` prefetched."""

    def tier_inlines(self) -> Sequence[type[InlineModelAdmin[Any, Any]]]:
        """Admin inlines shown on a support tier's page."""


_provider: list[SlaReads] = []


def sla_reads_register(provider: SlaReads) -> None:
    """Make ``provider`` the one answering ``sla_reads()`` (the last one wins)."""
    _provider[:] = [provider]


def sla_reads() -> SlaReads:
    if not _provider:
        raise RuntimeError("no SLA reads registered: is 'sla' in INSTALLED_APPS?")
    return _provider[0]
