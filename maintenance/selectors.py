"""Reads about maintenance: the banner, the calendar pages, the feed and the API."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from scalr_support.common.soft_cache import cache_delete, cache_get, cache_set

from .models import MaintenanceSchedule, MaintenanceWindow, WindowStatus

BANNER_CACHE_KEY = "maintenance:banner:v1"
BANNER_CACHE_SECONDS = 30
BANNER_LOOKAHEAD = timedelta(hours=24)
RECENT = timedelta(days=30)
FEED_PAST = timedelta(days=90)


@dataclass(frozen=True)
class Banner:
    """What the portal banner says: a window that is running or starts within 24 h."""

    window_id: int
    starts_at: datetime
    ends_at: datetime
    note: str
    running: bool


def _banner_candidate(now: datetime) -> dict[str, Any] | None:
    """The next scheduled window that has not ended, if it starts within 24 h."""
    found = (
        MaintenanceWindow.objects.filter(
            status=WindowStatus.SCHEDULED,
            ends_at__gt=now,
            starts_at__lte=now + BANNER_LOOKAHEAD,
        )
        .order_by("starts_at", "pk")
        .values("pk", "starts_at", "ends_at", "note")
        .first()
    )
    return dict(found) if found else None


def banner_for_now(now: datetime | None = None) -> Banner | None:
    """The banner to show, from a cache refreshed at most every 30 s.

    One small indexed query on a miss and none on a hit. Writes to windows delete
    the cached entry on commit (``services``), so a cancellation shows at once in
    the process that made it and within 30 s everywhere else. Whether the window is
    upcoming or running is decided now, not when the entry was cached.
    """
    now = now or timezone.now()
    entry = cache_get(BANNER_CACHE_KEY)
    if entry is None:
        entry = {"window": _banner_candidate(now)}
        cache_set(BANNER_CACHE_KEY, entry, BANNER_CACHE_SECONDS)
    window = entry["window"]
    if window is None or window["ends_at"] <= now:
        return None
    if window["starts_at"] > now + BANNER_LOOKAHEAD:
        return None
    return Banner(
        window_id=window["pk"],
        starts_at=window["starts_at"],
        ends_at=window["ends_at"],
        note=window["note"],
        running=window["starts_at"] <= now,
    )


def banner_forget() -> None:
    cache_delete(BANNER_CACHE_KEY)


def schedule_current() -> MaintenanceSchedule | None:
    return MaintenanceSchedule.objects.filter(is_active=True).order_by("pk").first()


def windows_upcoming(
    *, now: datetime | None = None, limit: int = 20
) -> QuerySet[MaintenanceWindow]:
    """Windows that have not ended, cancelled ones included (customers plan by them)."""
    now = now or timezone.now()
    return MaintenanceWindow.objects.filter(ends_at__gt=now).order_by(
        "starts_at", "pk"
    )[:limit]


def windows_recent(
    *, now: datetime | None = None, limit: int = 20
) -> QuerySet[MaintenanceWindow]:
    """Windows that ended in the last 30 days, latest first."""
    now = now or timezone.now()
    return MaintenanceWindow.objects.filter(
        ends_at__lte=now, ends_at__gt=now - RECENT
    ).order_by("-starts_at", "-pk")[:limit]


def windows_for_feed(*, now: datetime | None = None) -> QuerySet[MaintenanceWindow]:
    """Every window from 90 days back onwards, for the iCalendar feed."""
    now = now or timezone.now()
    return MaintenanceWindow.objects.filter(ends_at__gt=now - FEED_PAST).order_by(
        "starts_at", "pk"
    )


def windows_for_api(
    *,
    now: datetime | None = None,
    since: datetime | None = None,
    include_cancelled: bool = True,
) -> QuerySet[MaintenanceWindow]:
    """Windows ending after ``since`` (default: 30 days ago), earliest first."""
    now = now or timezone.now()
    queryset = MaintenanceWindow.objects.filter(ends_at__gt=since or now - RECENT)
    if not include_cancelled:
        queryset = queryset.filter(status=WindowStatus.SCHEDULED)
    return queryset.order_by("starts_at", "pk")
