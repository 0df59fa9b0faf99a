"""GET /api/v1/maintenance-windows/: the maintenance calendar for API clients."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from scalr_support.common.api import READ_ERRORS, error_responses
from scalr_support.common.apis import ApiView

from . import selectors
from .ics import window_uid
from .models import MaintenanceWindow, WindowStatus

MAX_WINDOWS = 200

WINDOW_EXAMPLE = {
    "id": 41,
    "starts_at": "2026-03-03T07:00:00Z",
    "ends_at": "2026-03-03T07:30:00Z",
    "duration_minutes": 30,
    "status": "scheduled",
    "state": "upcoming",
    "ad_hoc": False,
    "note": "Upgrade to 9.6.",
    "reason": "",
    "ical_uid": "maintenance-window-41@support.example.com",
    "updated_at": "2026-02-20T10:12:00Z",
}


def window_state(window: MaintenanceWindow, now: datetime) -> str:
    if window.status == WindowStatus.CANCELLED:
        return "cancelled"
    if window.ends_at <= now:
        return "over"
    if window.starts_at <= now:
        return "running"
    return "upcoming"


class MaintenanceWindowListApi(ApiView):
    """GET /maintenance-windows/: recent and upcoming windows, earliest first."""

    class FilterSerializer(serializers.Serializer):
        since = serializers.DateTimeField(
            required=False,
            help_text=_(
                "ISO 8601; windows ending after this time (default: 30 days ago)."
            ),
        )
        include_cancelled = serializers.BooleanField(
            required=False, default=True, help_text=_("false: scheduled windows only.")
        )

    @extend_schema_serializer(component_name="MaintenanceWindow")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(read_only=True)
        starts_at = serializers.DateTimeField(
            read_only=True, help_text=_("When maintenance starts (UTC).")
        )
        ends_at = serializers.DateTimeField(
            read_only=True, help_text=_("When maintenance is over at the latest.")
        )
        duration_minutes = serializers.IntegerField(
            read_only=True, help_text=_("Usually 30 or less.")
        )
        status = serializers.ChoiceField(
            choices=WindowStatus.choices,
            read_only=True,
            help_text=_("`cancelled` windows will not happen."),
        )
        state = serializers.ChoiceField(
            choices=["upcoming", "running", "over", "cancelled"],
            read_only=True,
            help_text=_("Where the window stands now."),
        )
        ad_hoc = serializers.BooleanField(
            read_only=True, help_text=_("Added outside the regular schedule.")
        )
        note = serializers.CharField(
            read_only=True, help_text=_("What support says about this window.")
        )
        reason = serializers.CharField(
            read_only=True, help_text=_("Why the window is longer than 30 minutes.")
        )
        ical_uid = serializers.CharField(
            read_only=True, help_text=_("The event's UID in /maintenance.ics.")
        )
        updated_at = serializers.DateTimeField(read_only=True)

    @extend_schema(
        operation_id="maintenance_windows_list",
        summary="List maintenance windows",
        description=(
            "Regular (every Tuesday and Thursday) and additional windows that end "
            "after `since`, cancelled ones included unless `include_cancelled=false`. "
            "Deployed infrastructure is not affected; only new runs wait."
        ),
        parameters=[FilterSerializer],
        responses={
            200: OpenApiResponse(
                OutputSerializer(many=True),
                examples=[OpenApiExample("Windows", value=[WINDOW_EXAMPLE])],
            ),
            **error_responses(400, *READ_ERRORS),
        },
        tags=["maintenance"],
    )
    def get(self, request: Request) -> Response:
        filters = MaintenanceWindowListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        windows = selectors.windows_for_api(
            now=now,
            since=filters.validated_data.get("since"),
            include_cancelled=filters.validated_data["include_cancelled"],
        )[:MAX_WINDOWS]
        rows = [
            {
                "id": window.pk,
                "starts_at": window.starts_at,
                "ends_at": window.ends_at,
                "duration_minutes": window.duration_minutes,
                "status": window.status,
                "state": window_state(window, now),
                "ad_hoc": window.is_ad_hoc,
                "note": window.note,
                "reason": window.reason,
                "ical_uid": window_uid(window, settings.SUPPORT_EMAIL_DOMAIN),
                "updated_at": window.updated_at,
            }
            for window in windows
        ]
        return Response(MaintenanceWindowListApi.OutputSerializer(rows, many=True).data)
