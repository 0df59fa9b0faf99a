"""ESP inbound webhooks: anymail's views, routed so that misconfiguration is not a 500.

anymail serves every ESP it supports; one that this installation has not configured
(no signing key, SDK not installed) raises on each request. Such a request gets a
clear 503 that tells the ESP to retry, and the operator a log line, instead of a
server error. Tracking webhooks are not routed: delivery events are not used.
"""

import logging
from collections.abc import Callable
from typing import Any

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailConfigurationError, AnymailImproperlyInstalled
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)

NOT_CONFIGURED = (
    ImproperlyConfigured,
    AnymailConfigurationError,
    AnymailImproperlyInstalled,
)


def _guarded(
    name: str, view: Callable[..., HttpResponse]
) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def inbound(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NOT_CONFIGURED as error:
            logger.error("inbound webhook %s is not configured: %s", name, error)
            return JsonResponse(
                {"detail": "This inbound mail webhook is not configured here."},
                status=503,
            )

    return inbound


def _inbound_patterns() -> list[URLPattern]:
    patterns = []
    for pattern in anymail_urls.urlpatterns:
        if (
            isinstance(pattern, URLPattern)
            and pattern.name
            and "inbound" in pattern.name
        ):
            patterns.append(
                URLPattern(
                    pattern.pattern,
                    _guarded(pattern.name, pattern.callback),
                    name=pattern.name,
                )
            )
    return patterns


app_name = "anymail"
urlpatterns = _inbound_patterns()
