"""Admin: the schedule (managers), windows one by one, and every Slack post's fate.

Writes go through ``services``: the forms run the services' own checks so that a
refused change shows next to its field, and ``save_model`` calls the service.
"""

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from scalr_support.accounts.models import User
from scalr_support.common.admin import ReadOnlyModelAdmin
from scalr_support.common.errors import ServiceError

from . import services
from .forms import ScheduleAdminForm, WindowAdminForm
from .models import (
    AnnouncementStatus,
    MaintenanceSchedule,
    MaintenanceWindow,
    SlackAnnouncement,
    WindowAuditEntry,
)


def _actor(request: HttpRequest) -> User:
    """The signed-in staff member (the admin lets nobody else in)."""
    return cast(User, request.user)


def _add_service_error(form: forms.BaseForm, error: ServiceError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _status_badge(status: str, label: str) -> str:
    return format_html(
        '<span class="announcement announcement-{}">{}</span>', status, label
    )


# --- schedule ------------------------------------------------------------------------


class ScheduleForm(ScheduleAdminForm):
    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        if not self.errors:
            try:
                self.schedule_input = services.schedule_input_clean(
                    _schedule_input(data)
                )
            except ServiceError as error:
                _add_service_error(self, error)
        return data


def _schedule_input(data: dict[str, Any]) -> services.ScheduleInput:
    return services.ScheduleInput(
        weekdays=tuple(data.get("weekday_choices") or ()),
        start_time=data["start_time"],
        timezone=data["timezone"],
        duration_minutes=data["duration_minutes"],
        is_active=data.get("is_active", True),
        name=data.get("name") or "",
    )


class AuditTrailMixin:
    """A read-only "Audit trail" field: who changed the row, and how."""

    @admin.display(description=_("Audit trail"))
    def audit_trail(self, obj: MaintenanceWindow | MaintenanceSchedule) -> str:
        return _audit_trail_html(obj)


def _audit_trail_html(obj: MaintenanceWindow | MaintenanceSchedule) -> str:
    """The newest entries first (written by the services only)."""
    entries = obj.audit_entries.select_related("actor")[:50]
    if not entries:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>{} · {} · {} · {}</li>",
            (
                (
                    f"{entry.created_at:%Y-%m-%d %H:%M} UTC",
                    entry.get_action_display(),
                    entry.actor or _("command line"),
                    "; ".join(
                        f"{name}: {old or '—'} → {new or '—'}"
                        for name, (old, new) in entry.changes.items()
                    ),
                )
                for entry in entries
            ),
        ),
    )


@admin.register(WindowAuditEntry)
class WindowAuditEntryAdmin(ReadOnlyModelAdmin):
    """Every maintenance change in one list, newest first; nothing editable."""

    list_display = ("created_at", "action", "actor", "window", "schedule")
    list_filter = ("action",)
    list_select_related = ("actor", "window", "schedule")
    fields = ("created_at", "action", "actor", "window", "schedule", "changes")
    readonly_fields = fields


@admin.register(MaintenanceSchedule)
class MaintenanceScheduleAdmin(AuditTrailMixin, admin.ModelAdmin):
    form = ScheduleForm
    list_display = (
        "name",
        "days",
        "start_time",
        "timezone",
        "duration_minutes",
        "is_active",
    )
    fields = (
        "name",
        "weekday_choices",
        "start_time",
        "timezone",
        "duration_minutes",
        "is_active",
        "audit_trail",
    )
    readonly_fields = ("audit_trail",)

    @admin.display(description=_("Weekdays"))
    def days(self, obj: MaintenanceSchedule) -> str:
        return ", ".join(obj.weekday_labels)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: MaintenanceSchedule | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: MaintenanceSchedule, form: Any, change: bool
    ) -> None:
        """Save through the service, which re-materialises the future windows."""
        services.schedule_update(
            schedule=obj, actor=_actor(request), data=form.schedule_input
        )


# --- windows -------------------------------------------------------------------------


class AnnouncementInline(admin.TabularInline):
    model = SlackAnnouncement
    extra = 0
    can_delete = False
    fields = (
        "phase",
        "status",
        "attempts",
        "http_status",
        "last_error",
        "sent_at",
        "text",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WindowForm(WindowAdminForm):
    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        if self.errors:
            return data
        now = timezone.now()
        try:
            if self.instance.pk:
                services.window_change_check(self.instance, _window_change(data), now)
            else:
                services.window_create_check(
                    data["starts_at"], data["ends_at"], data.get("reason") or "", now
                )
        except ServiceError as error:
            _add_service_error(self, error)
        return data


def _window_change(data: dict[str, Any]) -> services.WindowChange:
    return services.WindowChange(
        starts_at=data["starts_at"],
        ends_at=data["ends_at"],
        note=data.get("note") or "",
        reason=data.get("reason") or "",
    )


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(AuditTrailMixin, admin.ModelAdmin):
    form = WindowForm
    list_display = (
        "starts_at",
        "ends_at",
        "duration_minutes",
        "status",
        "kind",
        "customised",
        "note",
        "slack",
    )
    list_filter = ("status", ("schedule", admin.EmptyFieldListFilter), "customised")
    date_hierarchy = "starts_at"
    ordering = ("-starts_at",)
    inlines = (AnnouncementInline,)
    actions = ("cancel_windows",)
    readonly_fields = (
        "schedule",
        "slot",
        "status",
        "customised",
        "sequence",
        "cancelled_at",
        "created_by",
        "updated_at",
        "audit_trail",
    )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ["starts_at", "ends_at", "note", "reason"]
        return editable if obj is None else [*editable, *self.readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MaintenanceWindow]:
        return super().get_queryset(request).prefetch_related("announcements")

    @admin.display(description=_("Minutes"))
    def duration_minutes(self, obj: MaintenanceWindow) -> int:
        return obj.duration_minutes

    @admin.display(description=_("Kind"), ordering="schedule")
    def kind(self, obj: MaintenanceWindow) -> str:
        return str(_("Ad hoc")) if obj.is_ad_hoc else str(_("Scheduled"))

    @admin.display(description=_("Slack"))
    def slack(self, obj: MaintenanceWindow) -> str:
        posts = sorted(obj.announcements.all(), key=lambda item: item.created_at)
        if not posts:
            return "—"
        return ", ".join(f"{post.phase}: {post.get_status_display()}" for post in posts)

    def has_delete_permission(
        self, request: HttpRequest, obj: MaintenanceWindow | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: MaintenanceWindow, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        try:
            if change:
                services.window_change(
                    window=MaintenanceWindow.objects.get(pk=obj.pk),
                    actor=_actor(request),
                    change=_window_change(data),
                )
            else:
                created = services.window_create(
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    note=data.get("note") or "",
                    reason=data.get("reason") or "",
                    actor=_actor(request),
                )
                obj.pk = created.pk
        except ServiceError as error:
            messages.error(request, error.message)

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        """Save nothing: announcements are written by the sweep only.

        The read-only inline's formset is marked as unchanged for the admin's
        change message instead of being saved over rows a sweep may be updating.
        """
        for formset in formsets:
            formset.new_objects, formset.changed_objects = [], []
            formset.deleted_objects = []

    @admin.action(description=_("Cancel selected windows"), permissions=("change",))
    def cancel_windows(
        self, request: HttpRequest, queryset: QuerySet[MaintenanceWindow]
    ) -> None:
        done = 0
        for window in queryset:
            try:
                services.window_cancel(window=window, actor=_actor(request))
            except ServiceError as error:
                self.message_user(
                    request, f"{window}: {error.message}", messages.WARNING
                )
            else:
                done += 1
        self.message_user(
            request,
            _("%(n)d windows cancelled.") % {"n": done},
            messages.SUCCESS,
        )


# --- announcements -------------------------------------------------------------------


class FailedFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Failed or unknown"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[SlackAnnouncement]
    ) -> QuerySet[SlackAnnouncement]:
        if self.value() == "yes":
            return queryset.filter(
                status__in=[AnnouncementStatus.FAILED, AnnouncementStatus.UNKNOWN]
            )
        return queryset


@admin.register(SlackAnnouncement)
class SlackAnnouncementAdmin(admin.ModelAdmin):
    """Every post to #announcements and what Slack answered; failures stand out."""

    list_display = (
        "window",
        "phase",
        "status_badge",
        "attempts",
        "http_status",
        "last_error",
        "sent_at",
        "next_attempt_at",
    )
    list_filter = (FailedFilter, "status", "phase")
    list_select_related = ("window",)
    actions = ("send_again",)
    readonly_fields = (
        "window",
        "phase",
        "status",
        "attempts",
        "next_attempt_at",
        "deadline",
        "claimed_at",
        "sent_at",
        "text",
        "http_status",
        "response_body",
        "last_error",
        "created_at",
        "updated_at",
    )

    @admin.display(description=_("Status"), ordering="status")
    def status_badge(self, obj: SlackAnnouncement) -> str:
        return _status_badge(obj.status, obj.get_status_display())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: SlackAnnouncement | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: SlackAnnouncement | None = None
    ) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("maintenance.retry_slackannouncement")

    @admin.action(
        description=_("Send again (check #announcements first)"),
        permissions=("retry",),
    )
    def send_again(
        self, request: HttpRequest, queryset: QuerySet[SlackAnnouncement]
    ) -> None:
        for announcement in queryset:
            try:
                services.announcement_retry(
                    announcement=announcement, actor=_actor(request)
                )
            except ServiceError as error:
                self.message_user(
                    request, f"{announcement}: {error.message}", messages.WARNING
                )
            else:
                self.message_user(
                    request, _("%(a)s queued again.") % {"a": announcement}
                )
