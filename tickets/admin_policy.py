"""Admin pieces for the rest of the policy: lifecycle, scope and real-time sessions.

Kept apart from ``tickets.admin`` (the triage page), which only hooks these in:
the version-support filter and the policy flags of the queue, the releases
managers record, and the session request and scope fields of the ticket page.
"""

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import lifecycle, sessions
from .choices import SCOPE_REASONS, THIRD_PARTY_NOTE, Category
from .forms import LongTextField
from .models import Organization, Release, Ticket

# --- lifecycle -----------------------------------------------------------------------


class VersionSupportFilter(admin.SimpleListFilter):
    """Tickets by whether the version they report is still supported."""

    title = _("version support")
    parameter_name = "version"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("unsupported", _("Unsupported version")),
            ("supported", _("Supported or unknown version")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Ticket]
    ) -> QuerySet[Ticket]:
        today = timezone.now().date()
        if self.value() == "unsupported":
            return queryset.filter(version_support_ends_on__lt=today)
        if self.value() == "supported":
            return queryset.exclude(version_support_ends_on__lt=today)
        return queryset


def _flags(ticket: Ticket) -> list[tuple[str, str]]:
    flags = []
    if ticket.category == Category.THIRD_PARTY:
        flags.append(("third-party", str(_("Best endeavours: Terraform / OPA"))))
    if lifecycle.is_unsupported(ticket.version_support_ends_on, timezone.now().date()):
        flags.append(("unsupported-version", str(_("Unsupported version"))))
    if ticket.scope_exclusion:
        flags.append(("out-of-scope", str(_("Out of scope"))))
    return flags


@admin.display(description=_("Policy"))
def policy_flags_column(ticket: Ticket) -> str:
    flags = _flags(ticket)
    if not flags:
        return "—"
    return format_html_join(
        " ", '<span class="policy-flag policy-flag-{}">⚑ {}</span>', flags
    )


@admin.display(description=_("Policy notes"))
def policy_notes(ticket: Ticket) -> str:
    """What the customer is told about scope and version, on the triage page."""
    notes: list[tuple[str]] = []
    if ticket.category == Category.THIRD_PARTY:
        notes.append((str(THIRD_PARTY_NOTE),))
    if lifecycle.is_unsupported(ticket.version_support_ends_on, timezone.now().date()):
        notes.append(
            (
                str(
                    _(
                        "Version %(v)s is not supported; the customer is asked to "
                        "upgrade."
                    )
                )
                % {"v": ticket.version_reported},
            )
        )
    if ticket.scope_exclusion:
        notes.append((str(SCOPE_REASONS[ticket.scope_exclusion]),))
    if not notes:
        return "—"
    return format_html_join("", "<p>{}</p>", notes)


@admin.display(description=_("Version support"))
def organization_version_support(organization: Organization) -> str:
    support = lifecycle.version_support_today(organization.scalr_version)
    if support.supported is None:
        return str(_("Unknown"))
    if not support.supported:
        return format_html("<strong>{}</strong>", _("Unsupported: upgrade"))
    if support.ends_on is not None:
        return str(_("Supported until %(d)s")) % {"d": support.ends_on.isoformat()}
    return str(_("Supported (current major)"))


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """Releases managers record; the lifecycle table is computed from them."""

    list_display = ("version", "major", "released_on", "support")
    list_filter = ("major",)
    search_fields = ("version",)
    ordering = ("-released_on", "-major")

    @admin.display(description=_("Support today"))
    def support(self, obj: Release) -> str:
        line = next(
            (item for item in lifecycle.lifecycle_table() if item.major == obj.major),
            None,
        )
        if line is None:
            return str(_("Not released yet"))
        if line.status == lifecycle.CURRENT:
            return str(_("Current"))
        until = line.supported_until.isoformat() if line.supported_until else ""
        if line.status == lifecycle.PREVIOUS:
            return str(_("Supported until %(d)s")) % {"d": until}
        return str(_("Unsupported since %(d)s")) % {"d": until}

    def save_model(
        self, request: HttpRequest, obj: Release, form: Any, change: bool
    ) -> None:
        lifecycle.release_save(release=obj)

    def delete_model(self, request: HttpRequest, obj: Release) -> None:
        lifecycle.release_delete(release=obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Release]
    ) -> None:
        for release in queryset:
            lifecycle.release_delete(release=release)


# --- the triage page: scope and real-time sessions -----------------------------------


class PolicyTriageFields(forms.Form):
    """Extra fields of the ticket page: ask for a real-time session."""

    session_proposed_at = forms.SplitDateTimeField(
        label=_("Propose a real-time session at (UTC)"),
        required=False,
        widget=AdminSplitDateTime,
        help_text=_(
            "Business tier, P0-P3 only. The customer sees the request in the thread "
            "and by email, and can accept or propose another time."
        ),
    )
    session_link = forms.CharField(
        label=_("Meeting link"),
        required=False,
        max_length=500,
        help_text=_(
            "Zoom link, or the customer's own link when the organisation prefers its "
            "own system (its standing link is used if you leave this empty)."
        ),
    )
    session_note = LongTextField(
        label=_("Note for the customer"), required=False, rows=2
    )

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        ticket = getattr(self, "instance", None)
        if data.get("session_proposed_at") and ticket is not None and ticket.pk:
            refusal = sessions.session_refusal(ticket, priority=data.get("priority"))
            if refusal:
                self.add_error("session_proposed_at", refusal)
        elif data.get("session_link") or data.get("session_note"):
            self.add_error("session_proposed_at", _("Propose a time for the session."))
        return data


POLICY_FIELDSETS = (
    (_("Scope"), {"fields": (policy_notes, "scope_exclusion")}),
    (
        _("Real-time session"),
        {"fields": ("session_proposed_at", "session_link", "session_note")},
    ),
)
