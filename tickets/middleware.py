"""Attach the signed-in customer's membership and show times in their timezone."""

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
        else:
            timezone.deactivate()
        return self.get_response(request)
