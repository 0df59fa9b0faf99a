"""Refuse an oversized request before anything reads its body."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .sizes import size_text

# ESP webhooks post a whole message as one field; notifications.middleware caps them.
EXEMPT_PREFIXES = ("/anymail/",)
JSON_PREFIXES = ("/api/",)


def request_body_limit(content_type: str) -> int:
    """The most a portal, admin or API request may declare, in bytes.

    Form fields get ``FORM_MAX_BYTES`` (room for 100,000 characters of any
    script, percent-encoded); a multipart request may carry the attachments on
    top of that, up to ``ATTACHMENT_MAX_COUNT`` files of ``ATTACHMENT_MAX_BYTES``.
    """
    limit: int = settings.FORM_MAX_BYTES
    if content_type.startswith("multipart/"):
        limit += settings.ATTACHMENT_MAX_BYTES * settings.ATTACHMENT_MAX_COUNT
    return limit


class RequestSizeLimitMiddleware:
    """Answer 413 with a clear message to a request that declares too large a body.

    Without it a 20 MB comment is read, parsed and stored, and then weighs down
    every page and notification that shows it; Django's own
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` stays as large as the inbound webhooks need.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(EXEMPT_PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = request_body_limit(request.META.get("CONTENT_TYPE", ""))
            if length > limit:
                return self.refuse(request, length, limit)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest, length: int | None, limit: int) -> HttpResponse:
        """The 413 answer: a page, or JSON under /api/; ``length`` None: unknown."""
        size = (
            _("%(size)s; the limit is %(limit)s")
            % {"size": size_text(length, above=limit), "limit": size_text(limit)}
            if length is not None
            else _("the limit is %(limit)s") % {"limit": size_text(limit)}
        )
        message = _(
            "The request is too large (%(size)s). Texts may have up to 100,000 "
            "characters; attach long logs as files."
        ) % {"size": size}
        if request.path.startswith(JSON_PREFIXES):
            return JsonResponse({"detail": message, "code": "too_large"}, status=413)
        return HttpResponse(
            render_to_string("413.html", {"message": message}), status=413
        )
