"""The iCalendar feed of maintenance windows (RFC 5545, via the icalendar library).

Each window keeps one UID for life (its primary key), and its SEQUENCE goes up on
every change, so a subscribed calendar updates the event in place; a cancelled
window stays in the feed with STATUS:CANCELLED so calendars remove it.
"""

from collections.abc import Iterable
from datetime import datetime

from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .models import MaintenanceWindow
from .slack import NOT_AFFECTED


def window_uid(window: MaintenanceWindow, domain: str) -> str:
    return f"maintenance-window-{window.pk}@{domain}"


def feed(
    windows: Iterable[MaintenanceWindow], *, domain: str, page_url: str, now: datetime
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Scalr//Support portal maintenance//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Scalr maintenance"))
    calendar.add("x-published-ttl", "PT1H")
    for window in windows:
        event = Event()
        event.add("uid", window_uid(window, domain))
        event.add("dtstamp", now)
        event.add("last-modified", window.updated_at)
        event.add("dtstart", window.starts_at)
        event.add("dtend", window.ends_at)
        event.add("sequence", window.sequence)
        summary = _("Scalr maintenance")
        if window.is_cancelled:
            summary = _("Cancelled: Scalr maintenance")
        event.add("summary", summary)
        description = str(NOT_AFFECTED)
        if window.note:
            description = f"{window.note}\n\n{description}"
        event.add("description", description)
        event.add("status", "CANCELLED" if window.is_cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        event.add("url", page_url)
        calendar.add_component(event)
    return calendar.to_ical()
