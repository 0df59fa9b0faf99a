"""SLA admin: calendars, targets (managers edit), clocks, and the attainment report.

Writes go through ``sla.services`` so that a target or calendar edit reaches the
running clocks the same way ``manage.py sla_target`` does. The queue's SLA columns
and filter live here too and are used by ``tickets.admin.TicketAdmin``.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from scalr_support.accounts.models import User
from scalr_support.common.admin import ReadOnlyModelAdmin
from tickets.admin_sla import STATE_LABELS
from tickets.satisfaction import SatisfactionSummary, satisfaction_by_tier_priority

from . import charts, selectors, services
from .models import (
    BusinessCalendar,
    CalendarDate,
    ResponseClock,
    ResponseTarget,
    SlaChangeEntry,
    SlaTransition,
    WorkingInterval,
)
from .satisfaction_report import satisfaction_report_context

REPORT_PERMISSION = "sla.report_responseclock"
# --- calendars ---------------------------------------------------------------


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    extra = 0
    min_num = 1
    validate_min = True


class CalendarDateInline(admin.TabularInline):
    model = CalendarDate
    extra = 0


def _actor(request: HttpRequest) -> User:
    """The signed-in staff member (the admin lets nobody else in)."""
    return cast(User, request.user)


@admin.register(SlaChangeEntry)
class SlaChangeEntryAdmin(ReadOnlyModelAdmin):
    """Who changed targets and calendars, newest first; nothing editable."""

    list_display = ("created_at", "action", "actor", "target", "calendar", "recomputed")
    list_filter = ("action",)
    list_select_related = ("actor", "target__tier", "calendar")
    fields = (
        "created_at",
        "action",
        "actor",
        "target",
        "calendar",
        "changes",
        "recomputed",
    )
    readonly_fields = fields


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "holiday_country", "is_default", "updated_at")
    fields = (
        "name",
        "timezone",
        "holiday_country",
        "holiday_subdivision",
        "is_default",
    )
    inlines = (WorkingIntervalInline, CalendarDateInline)
    search_fields = ("name",)

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        """Save the hours and dates, then publish the change to running clocks."""
        super().save_related(request, form, formsets, change)
        changed = list(form.changed_data)
        for formset, name in zip(formsets, ("working hours", "dates"), strict=False):
            if formset.has_changed():
                changed.append(name)
        recomputed = services.business_calendar_changed(
            calendar=form.instance, actor=_actor(request), changed=changed
        )
        if recomputed:
            self.message_user(
                request,
                gettext("%(n)d running clocks were recomputed.") % {"n": recomputed},
                messages.INFO,
            )

    def has_delete_permission(
        self, request: HttpRequest, obj: BusinessCalendar | None = None
    ) -> bool:
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


# --- targets -------------------------------------------------------------------


class ResponseTargetForm(forms.ModelForm):
    class Meta:
        model = ResponseTarget
        fields = ("tier", "priority", "amount", "unit", "clock", "guaranteed")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("unit") in ("bd", "eod") and data.get("clock") == "24x7":
            self.add_error(
                "clock", _("Business days always run on the business calendar.")
            )
        return data


@admin.register(ResponseTarget)
class ResponseTargetAdmin(admin.ModelAdmin):
    form = ResponseTargetForm
    list_display = ("tier", "priority", "label", "clock", "guaranteed")
    list_filter = ("tier",)
    list_select_related = ("tier",)
    ordering = ("tier__position", "priority")

    def get_readonly_fields(
        self, request: HttpRequest, obj: ResponseTarget | None = None
    ) -> tuple[str, ...]:
        return ("tier", "priority") if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: ResponseTarget, form: Any, change: bool
    ) -> None:
        """Apply the target through the service, which recomputes running clocks."""
        data = form.cleaned_data
        result = services.response_target_set(
            tier=obj.tier,
            priority=obj.priority,
            amount=data["amount"],
            unit=data["unit"],
            clock=data["clock"],
            guaranteed=data["guaranteed"],
            actor=_actor(request),
        )
        obj.pk = result.target.pk
        if result.recomputed:
            self.message_user(
                request,
                gettext("%(n)d running clocks were recomputed.")
                % {"n": result.recomputed},
                messages.INFO,
            )

    def has_delete_permission(
        self, request: HttpRequest, obj: ResponseTarget | None = None
    ) -> bool:
        return False


# --- clocks and the attainment report -------------------------------------------


class AttainmentPeriodForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    MAX_DAYS = 3 * 366

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The period must start before it ends."))
            if (end - start).days > self.MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of three years or less.")
                )
        return data


def _period(form: AttainmentPeriodForm, today: date) -> tuple[date, date]:
    if form.is_bound and form.is_valid():
        return form.cleaned_data["start"], form.cleaned_data["end"]
    return today - timedelta(days=29), today


@admin.register(ResponseClock)
class ResponseClockAdmin(admin.ModelAdmin):
    list_display = (
        "ticket",
        "kind",
        "priority",
        "target_label",
        "started_at",
        "due_at",
        "state_column",
        "responded_at",
    )
    list_filter = ("kind", "guaranteed", "tier", "priority")
    list_select_related = ("ticket",)
    search_fields = ("=ticket__number",)
    date_hierarchy = "started_at"
    change_list_template = "admin/sla/responseclock/change_list.html"

    @admin.display(description=_("State"))
    def state_column(self, clock: ResponseClock) -> str:
        state = clock.state(timezone.now())
        return format_html(
            '<span class="sla-state sla-{}">{}</span>', state, STATE_LABELS[state]
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ResponseClock | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ResponseClock | None = None
    ) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "attainment/",
                self.admin_site.admin_view(self.attainment_view),
                name="sla_attainment",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        extra_context = {
            **(extra_context or {}),
            "can_report": request.user.has_perm(REPORT_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def attainment_view(self, request: HttpRequest) -> HttpResponse:
        """Met and breached per tier and priority for a period; CSV with ?format=csv."""
        if not request.user.has_perm(REPORT_PERMISSION):
            raise PermissionDenied
        form = AttainmentPeriodForm(request.GET if "start" in request.GET else None)
        first, last = _period(form, timezone.localdate())
        start = datetime.combine(first, time(0), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
        report = selectors.sla_attainment(start=start, end=end)
        ratings = satisfaction_by_tier_priority(start=start, end=end)
        if request.GET.get("format") == "csv":
            return _attainment_csv(report, first, last, ratings)
        if not form.is_bound:
            form = AttainmentPeriodForm(initial={"start": first, "end": last})
        chart = charts.attainment_chart(
            [
                charts.ChartRow(
                    label=row.label + (" *" if row.best_effort else ""),
                    met=row.met,
                    missed=row.missed,
                    best_effort=row.best_effort,
                )
                for row in report.rows
            ],
            title=gettext("Share of responses on time, %(start)s to %(end)s")
            % {"start": first.isoformat(), "end": last.isoformat()},
        )
        context = {
            **self.admin_site.each_context(request),
            **satisfaction_report_context(report.rows, ratings, first, last),
            "title": gettext("SLA attainment"),
            "opts": self.model._meta,
            "form": form,
            "report": report,
            "chart": chart,
            "first": first,
            "last": last,
            "csv_url": reverse("admin:sla_attainment")
            + f"?start={first.isoformat()}&end={last.isoformat()}&format=csv",
            "presets": _presets(timezone.localdate()),
        }
        return TemplateResponse(request, "admin/sla/attainment.html", context)


def _presets(today: date) -> list[tuple[str, date, date]]:
    return [
        (
            gettext("Last %(n)d days") % {"n": days},
            today - timedelta(days=days - 1),
            today,
        )
        for days in (7, 30, 90, 365)
    ]


def _attainment_csv(
    report: selectors.AttainmentReport,
    first: date,
    last: date,
    ratings: dict[tuple[str, int], SatisfactionSummary],
) -> HttpResponse:
    """One row per tier and priority; satisfaction columns come last (additive)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="sla-attainment-{first.isoformat()}-'
        f'{last.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "tier",
            "priority",
            "best_effort",
            "met",
            "breached_or_late",
            "total",
            "attainment_percent",
            "responses",
            "median_response_minutes",
            "p95_response_minutes",
            "rated_good",
            "rated_bad",
            "satisfaction_percent",
        ]
    )
    for row in report.rows:
        rated = ratings.get((row.tier, row.priority), SatisfactionSummary(0, 0))
        writer.writerow(
            [
                row.tier,
                row.priority,
                "yes" if row.best_effort else "no",
                row.met,
                row.missed,
                row.total,
                "" if row.attainment is None else f"{row.attainment:.1f}",
                row.responses,
                _minutes(row.median),
                _minutes(row.p95),
                rated.good,
                rated.bad,
                "" if rated.score is None else f"{100 * rated.score:.1f}",
            ]
        )
    return response


def _minutes(value: timedelta | None) -> str:
    return "" if value is None else f"{value.total_seconds() / 60:.1f}"


@admin.register(SlaTransition)
class SlaTransitionAdmin(admin.ModelAdmin):
    list_display = ("clock", "kind", "occurred_at", "recorded_at", "notified_at")
    list_filter = ("kind", "notify")
    list_select_related = ("clock",)
    date_hierarchy = "recorded_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: SlaTransition | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: SlaTransition | None = None
    ) -> bool:
        return False
