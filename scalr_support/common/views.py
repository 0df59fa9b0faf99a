"""Views of the project itself: health, outage pages, measurement endpoints."""

import logging
import sys

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Answered instead of a 500 when the database is away: the client may try again.
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10
PROBE_TIMEOUT = 0.5  # seconds, for the broker check of /healthz
JSON_PREFIXES = ("/api/", "/anymail/", "/healthz")


@login_required
def ceiling(request: HttpRequest) -> HttpResponse:
    """The cheapest signed-in page: full middleware, a tiny template, no queries.

    benchmarks/portal.py compares the portal pages' throughput against this one.
    """
    return render(request, "bench/ceiling.html")


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unavailable"
    return "ok"


def _broker_state() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return "ok"  # the embedded broker lives on the local disk
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
    )
    try:
        client.ping()
    except (redis.exceptions.RedisError, OSError):
        return "unavailable"
    finally:
        client.close()
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Say whether the portal can serve, for load balancers and people on call.

    ``ok`` when PostgreSQL and the broker answer. ``degraded`` when one does not:
    without the broker (Redis) the portal still serves and stores everything, and
    the sweeps send the queued work once it is back, so the answer stays 200;
    without PostgreSQL nothing can be served, so it is 503. No session is read
    and nothing is written.
    """
    checks = {"database": _database_state(), "broker": _broker_state()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if checks["database"] == "ok" else 503,
    )


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer during a database outage: a page, or JSON for machines.

    Rendered without a request context: the context processors would ask the
    database that is not there.
    """
    if request.path.startswith(JSON_PREFIXES):
        response: HttpResponse = JsonResponse(
            {
                "detail": _(
                    "The service is briefly unavailable. Try again in a few seconds."
                ),
                "code": "service_unavailable",
            },
            status=503,
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` says so (413).

    The declared size is checked before anything reads the body
    (``RequestSizeLimitMiddleware``); a multipart form whose fields alone pass
    Django's own cap while it is read lands here instead of on "Bad request".
    """
    if isinstance(exception, RequestDataTooBig):
        from .middleware import RequestSizeLimitMiddleware

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestSizeLimitMiddleware.refuse(request, None, limit)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database outage is a 503 (try again), the rest a 500.

    Django calls it while handling the exception, so ``sys.exc_info`` names it;
    an error in middleware (the session or the signed-in contact, read before any
    view) reaches this handler too.
    """
    error = sys.exc_info()[1]
    if isinstance(error, TRANSIENT_DATABASE_ERRORS):
        return service_unavailable(request)
    if request.path.startswith(JSON_PREFIXES):
        return JsonResponse(
            {"detail": _("A server error occurred."), "code": "server_error"},
            status=500,
        )
    return defaults.server_error(request)
