"""Admin triage: the support queue and the ticket page engineers work from.

Every change goes through the services, so the admin obeys the same rules as the
portal and the API (a priority change needs a reason, statuses move the same way).
"""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from scalr_support.accounts.models import User

from . import services
from .admin_policy import (
    POLICY_FIELDSETS,
    PolicyTriageFields,
    VersionSupportFilter,
    organization_version_support,
    policy_flags_column,
    policy_notes,
)
from .admin_sla import SlaStateFilter, sla_due_column, sla_state_column
from .choices import REASON_MAX_LENGTH
from .forms import LongTextField, MultipleFileField, ServiceErrorMixin
from .models import Contact, Organization, SupportTier, Ticket
from .sla_reads import sla_reads


def staff_user(request: HttpRequest) -> User:
    """The signed-in engineer: the admin lets no anonymous request this far."""
    return cast(User, request.user)


@admin.register(SupportTier)
class SupportTierAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "response_summary",
        "guaranteed_response",
        "realtime_sessions",
        "community_slack",
        "max_technical_contacts",
    )
    prepopulated_fields = {"slug": ("name",)}

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        # The targets belong to sla, which provides their (read-only) inline.
        return [*super().get_inlines(request, obj), *sla_reads().tier_inlines()]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    autocomplete_fields = ("user",)
    fields = (
        "user",
        "is_technical_contact",
        "is_organization_admin",
        "training_completed",
        "notify_organization_tickets",
        "maintenance_reminders",
    )


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "tier",
        "deployment",
        "scalr_version",
        organization_version_support,
        "timezone",
    )
    list_filter = ("tier", "deployment")
    search_fields = ("name",)
    inlines = (ContactInline,)
    # Django takes callables here; django-stubs' type names strings only.
    readonly_fields = (organization_version_support,)  # type: ignore[assignment]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "organization",
        "is_technical_contact",
        "is_organization_admin",
        "training_completed",
    )
    list_filter = (
        "organization__tier",
        "is_technical_contact",
        "is_organization_admin",
        "training_completed",
    )
    search_fields = (
        "user__email",
        "user__first_name",
        "user__last_name",
        "organization__name",
    )
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")


class TicketTriageForm(ServiceErrorMixin, PolicyTriageFields, forms.ModelForm):
    """What an engineer may change, plus a reply and the reason for a new priority.

    The workspace's ticket page (``workspace.forms.TicketPageForm``) builds on it
    and saves through ``workspace.saving``; a service refusal becomes an error on
    the field it names (``ServiceErrorMixin``).
    """

    # Fields the services name differently from this form.
    service_fields = {"attachments": "reply_attachments"}

    priority_change_reason = LongTextField(
        label=_("Reason for the priority change"),
        required=False,
        rows=2,
        max_length=REASON_MAX_LENGTH,
        help_text=_("Required when you change the priority; the customer sees it."),
    )
    reply = LongTextField(
        label=_("Reply"), required=False, rows=6, help_text=_("Markdown works.")
    )
    reply_visibility = forms.ChoiceField(
        label=_("Post as"),
        choices=[
            ("public", _("Public reply (customer sees it)")),
            ("internal", _("Internal note")),
        ],
        initial="public",
    )
    reply_attachments = MultipleFileField(label=_("Attachments"))

    class Meta:
        model = Ticket
        fields = ("status", "priority", "assignee", "category", "scope_exclusion")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "assignee" in self.fields:
            assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
            assignee.queryset = User.objects.filter(is_staff=True, is_active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            self.instance.pk
            and data.get("priority") is not None
            and data["priority"] != self.instance.priority
            and not (data.get("priority_change_reason") or "").strip()
        ):
            self.add_error(
                "priority_change_reason",
                _("Say why the priority changes; the customer will see the reason."),
            )
        return data


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketTriageForm
    list_display = (
        "reference",
        "subject",
        policy_flags_column,
        "organization",
        "tier",
        "priority_badge",
        sla_due_column,
        sla_state_column,
        "status",
        "assignee",
        "created_at",
    )
    list_display_links = ("reference", "subject")
    list_filter = (
        SlaStateFilter,
        VersionSupportFilter,
        "organization__tier",
        "priority",
        "status",
        "assignee",
        "category",
    )
    search_fields = (
        "=number",
        "subject",
        "organization__name",
        "requester__email",
        "requester__last_name",
    )
    list_select_related = ("organization__tier", "assignee")
    # Priority, then Business before best effort, then the running clock's due time.
    ordering = (
        "priority",
        "sla_best_effort",
        F("sla_due_at").asc(nulls_last=True),
        "created_at",
    )
    list_per_page = 50
    actions = ("assign_to_me",)
    # Callables are fine for Django; django-stubs types names only.
    readonly_fields = (  # type: ignore[assignment]
        "number",
        "organization",
        "requester",
        "subject",
        "description_rendered",
        "deployment",
        "version_reported",
        "created_at",
        "last_activity_at",
        policy_notes,
    )
    fieldsets = (  # type: ignore[assignment]
        (
            None,
            {
                "fields": (
                    "number",
                    "subject",
                    "organization",
                    "requester",
                    "description_rendered",
                )
            },
        ),
        (
            _("Environment"),
            {
                "fields": (
                    "deployment",
                    "version_reported",
                    "created_at",
                    "last_activity_at",
                )
            },
        ),
        (
            _("Triage"),
            {
                "fields": (
                    "status",
                    "priority",
                    "priority_change_reason",
                    "assignee",
                    "category",
                )
            },
        ),
        (_("Respond"), {"fields": ("reply", "reply_visibility", "reply_attachments")}),
        *POLICY_FIELDSETS,
    )

    class Media:
        css = {"all": ("css/admin-sla.css",)}

    @admin.display(description=_("Ticket"), ordering="number")
    def reference(self, obj: Ticket) -> str:
        return obj.reference

    @admin.display(description=_("Tier"), ordering="organization__tier")
    def tier(self, obj: Ticket) -> str:
        return obj.organization.tier.name

    @admin.display(description=_("Priority"), ordering="priority")
    def priority_badge(self, obj: Ticket) -> str:
        return format_html(
            '<span class="priority priority-{}">{}</span>',
            obj.priority,
            obj.get_priority_display(),
        )

    @admin.display(description=_("Description"))
    def description_rendered(self, obj: Ticket) -> str:
        # Sanitised by nh3 when it was written (tickets.markdown).
        return mark_safe(obj.description_html)  # noqa: S308

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Ticket | None = None
    ) -> bool:
        return False

    # The engineer's workspace (tickets/workspace) replaces the stock pages.
    def get_urls(self) -> list[Any]:
        from .workspace import views as workspace

        return [*workspace.urls(self), *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        from .workspace import views as workspace

        return workspace.queue(self, request)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        from .workspace import views as workspace

        return workspace.ticket_page(self, request, object_id)

    @admin.action(description=_("Assign selected tickets to me"))
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        count = 0
        for ticket in queryset:
            services.ticket_assign(
                ticket=ticket, actor=staff_user(request), assignee=staff_user(request)
            )
            count += 1
        self.message_user(
            request,
            _("%(n)d tickets assigned to you.") % {"n": count},
            messages.SUCCESS,
        )


from .workspace import admin as _workspace_admin  # noqa: E402, F401  (registers)

admin.site.site_header = _("Scalr Support")
admin.site.site_title = _("Scalr Support admin")
admin.site.index_title = _("Support desk")


from . import customer_admin  # noqa: E402, F401  (registers its admin classes)
