"""The day-before email to contacts who opted in."""

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import EmailDelivery, Event
from notifications.services import notification_enqueue
from scalr_support.accounts.models import User
from tickets.models import Contact

from ..models import (
    MaintenanceWindow,
    WindowStatus,
)

logger = logging.getLogger(__name__)


def contact_maintenance_reminders_set(*, contact: Contact, enabled: bool) -> Contact:
    """Opt in to (or out of) an email the day before each maintenance window."""
    contact.maintenance_reminders = enabled
    contact.save(update_fields=["maintenance_reminders"])
    return contact


REMINDER_LEAD = timedelta(hours=24)


def reminder_event_key(window: MaintenanceWindow) -> str:
    """The outbox key: the window and its start, so a moved window is mailed again."""
    return f"maintenance:{window.pk}:{window.starts_at:%Y%m%dT%H%MZ}"


def _reminder_context(window: MaintenanceWindow, tz_name: str) -> dict[str, str]:
    zone = ZoneInfo(tz_name)
    start = window.starts_at.astimezone(zone)
    end = window.ends_at.astimezone(zone)
    return {
        "window_id": str(window.pk),
        "starts": f"{start:%A} {start.day} {start:%B %Y, %H:%M %Z}",
        "ends": f"{end:%H:%M %Z}"
        if end.date() == start.date()
        else (f"{end:%A} {end.day} {end:%B %Y, %H:%M %Z}"),
        "timezone": tz_name,
        "note": window.note,
        "maintenance_url": settings.SITE_URL + reverse("maintenance:list"),
    }


def reminders_enqueue(*, now: datetime | None = None) -> int:
    """Queue the day-before email for each window starting within 24 hours.

    Only contacts who opted in receive it, with times in their organisation's
    timezone. At-least-once, de-duplicated by (event key, recipient) in the
    outbox: running again, or twice at once, mails nobody twice. Returns how many
    deliveries were queued.
    """
    now = now or timezone.now()
    windows = list(
        MaintenanceWindow.objects.filter(
            status=WindowStatus.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + REMINDER_LEAD,
        )
    )
    if not windows:
        return 0
    contacts = list(
        Contact.objects.filter(maintenance_reminders=True, user__is_active=True)
        .select_related("user", "organization")
        .order_by("pk")
    )
    queued = 0
    for window in windows:
        key = reminder_event_key(window)
        mailed = set(
            EmailDelivery.objects.filter(event_key=key).values_list(
                "recipient_id", flat=True
            )
        )
        by_zone: dict[str, list[User]] = defaultdict(list)
        for contact in contacts:
            if contact.user_id not in mailed:
                by_zone[contact.organization.timezone].append(contact.user)
        for tz_name, users in sorted(by_zone.items()):
            with transaction.atomic(durable=True):
                queued += notification_enqueue(
                    event=Event.MAINTENANCE_REMINDER,
                    event_key=key,
                    recipients=users,
                    context=_reminder_context(window, tz_name),
                )
    return queued
