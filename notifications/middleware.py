"""Refuse oversize inbound webhooks before Django reads their body."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class InboundSizeLimitMiddleware:
    """Answer 413 to an ESP webhook whose declared size is over the inbound limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/anymail/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.INBOUND_EMAIL_MAX_BYTES:
                return JsonResponse({"detail": "Message too large."}, status=413)
        return self.get_response(request)
