"""Request ids that can be trusted, and one access line per request."""

import logging
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("scalr_support.access")

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's or a caller's id is kept only if it is a plain token (a UUID, nginx's
# $request_id, a trace id); anything else is replaced, so a header cannot forge
# log lines or grow them without bound.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
_META_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")


def request_id_is_sane(value: str) -> bool:
    """Say whether an incoming request id is a plain token of 8 to 128 characters."""
    return _SANE_REQUEST_ID.fullmatch(value) is not None


class RequestIdSanitizeMiddleware:
    """Drop an incoming ``X-Request-ID`` that is not a sane token.

    Runs just before django-guid's middleware, which then makes a new id for the
    request (``VALIDATE_GUID`` is off: this is the validation) and returns it in
    the response's ``X-Request-ID``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get(_META_KEY)
        if given is not None and not request_id_is_sane(given):
            del request.META[_META_KEY]
            request.__dict__.pop("headers", None)  # rebuilt from META when read
            logger.debug("refused an X-Request-ID of %s characters", len(given))
        return self.get_response(request)


class AccessLogMiddleware:
    """Log method, route, status and duration of each request, with its request id.

    The URL pattern (``tickets/<int:number>/``), not the path: paths carry
    password-reset and invitation tokens, query strings what a customer searched
    for (an address), and the log must hold neither. A path that matched no
    pattern is logged cut to 200 characters.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        match = request.resolver_match
        route = "/" + match.route if match is not None else "<no route>"
        logger.info(
            "%s %s %s %.1fms",
            request.method,
            route,
            response.status_code,
            duration_ms,
            extra={
                "http_method": request.method,
                "http_route": route,
                "http_status": response.status_code,
                "duration_ms": round(duration_ms, 1),
            },
        )
        return response
