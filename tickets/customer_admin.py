"""Staff views of what customers do themselves: audit trail, invitations, ratings.

Read-only: these rows are written by the portal's services only.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .customer_models import (
    Invitation,
    OrganizationAuditEntry,
    SatisfactionRating,
    TicketFollower,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OrganizationAuditEntry)
class OrganizationAuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "actor", "action", "subject_email")
    list_filter = ("action", "organization")
    search_fields = ("subject_email", "actor__email", "organization__name")
    list_select_related = ("organization", "actor")
    date_hierarchy = "created_at"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = (
        "email",
        "organization",
        "technical_contact",
        "invited_by",
        "created_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("organization",)
    search_fields = ("email", "organization__name")
    list_select_related = ("organization", "invited_by")


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(ReadOnlyAdmin):
    list_display = (
        "ticket",
        "rating",
        "comment",
        "rated_by",
        "solved_at",
        "created_at",
    )
    list_filter = ("rating", "ticket__organization")
    search_fields = ("ticket__subject", "comment", "rated_by__email")
    list_select_related = ("ticket", "rated_by")
    date_hierarchy = "created_at"


@admin.register(TicketFollower)
class TicketFollowerAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "user", "added_by", "created_at")
    search_fields = ("ticket__subject", "user__email")
    list_select_related = ("ticket", "user", "added_by")
