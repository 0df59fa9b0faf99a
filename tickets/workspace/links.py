"""URLs of the workspace's pages, with the queue view carried along."""

from urllib.parse import urlencode

from django.urls import reverse

from .chrome import chrome_links


def queue_url(query: str = "") -> str:
    # The changelist's URL resolved once per process (``chrome``): the queue
    # page alone links to it a dozen times.
    base = chrome_links()["queue"]
    return f"{base}?{query}" if query else base


def ticket_url(ticket_id: int, view: str = "") -> str:
    base = reverse("admin:tickets_ticket_change", args=[ticket_id])
    return f"{base}?{urlencode({'view': view})}" if view else base
