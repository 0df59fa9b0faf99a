"""``/metrics``: Prometheus's scrape target, closed in production unless configured."""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .metrics import registry


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _address_allowed(address: str, allowed: list[str]) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in allowed)


def metrics_access_allowed(request: HttpRequest) -> bool:
    """Say whether this request may read the metrics.

    With ``METRICS_TOKEN`` set, it must bring ``Authorization: Bearer <token>``
    (compared in constant time); with ``METRICS_ALLOWED_IPS`` set, it must come
    from one of those addresses or networks; with both, both. With neither, the
    metrics are open only under DEBUG (``make run``): production is closed.
    """
    token = settings.METRICS_TOKEN
    allowed = settings.METRICS_ALLOWED_IPS
    if not token and not allowed:
        return bool(settings.DEBUG)
    if token and not hmac.compare_digest(
        _bearer_token(request).encode(), token.encode()
    ):
        return False
    return not allowed or _address_allowed(request.META.get("REMOTE_ADDR", ""), allowed)


def _request_registry() -> CollectorRegistry:
    """django-prometheus's metrics: this process's, or every gunicorn worker's.

    Under gunicorn each worker counts its own requests; with
    ``PROMETHEUS_MULTIPROC_DIR`` set they write them to files there, and any
    worker serves the sum.
    """
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return REGISTRY
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
    return merged


def metrics(request: HttpRequest) -> HttpResponse:
    """Serve django-prometheus's request metrics and the project's own figures.

    Refused with 404 for any method, as if the URL did not exist, so a scan
    learns nothing; a scraper that may read them gets 405 for anything but GET.
    """
    if not metrics_access_allowed(request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    body = generate_latest(_request_registry()) + generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
