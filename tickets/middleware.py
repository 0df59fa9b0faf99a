"""Attach the signed-in customer's membership and show times in the viewer's zone.

A contact sees times in the organisation's zone; a staff member in their own
``User.time_zone`` (UTC when empty). Templates and ``timezone.localtime`` then
agree on one zone per page, and every time on it carries its abbreviation.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .selectors import contact_for_user


class ContactMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        contact = contact_for_user(request.user)
        request.contact = contact  # type: ignore[attr-defined]
        if contact is not None:
            timezone.activate(contact.organization.timezone)
        elif getattr(request.user, "time_zone", ""):
            timezone.activate(request.user.time_zone)  # type: ignore[union-attr]
        else:
            timezone.deactivate()
        return self.get_response(request)
