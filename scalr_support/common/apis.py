"""API views shared by every app: the base class, the API root, the bench ceiling."""

from functools import lru_cache
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .api import READ_ERRORS, error_responses

API_PREFIX = "api/v1/"


class ApiView(APIView):
    """Base of every API view: signed-in users, the settings' auth and throttles."""

    permission_classes = (IsAuthenticated,)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """Throttle refused credentials too.

        DRF checks throttles only after authentication and permissions pass, so a
        client without (or with wrong) credentials would never be slowed down;
        here its 401 becomes a 429 once the anonymous rate is spent.
        """
        try:
            super().initial(request, *args, **kwargs)
        except (exceptions.NotAuthenticated, exceptions.AuthenticationFailed):
            self.check_throttles(request)
            raise


# --- the API root ------------------------------------------------------------------


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, namespace: str
) -> list[tuple[str, str]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            space = namespace
            if pattern.namespace:
                space = f"{namespace}{pattern.namespace}:"
            found += _walk(pattern.url_patterns, route, space)
        elif (
            pattern.name
            and route.startswith(API_PREFIX)
            and route != API_PREFIX
            and "<" not in route
            and not pattern.pattern.converters
        ):
            found.append((pattern.name, f"{namespace}{pattern.name}"))
    return found


@lru_cache(maxsize=4)
def _api_collections(urlconf: str | None) -> tuple[tuple[str, str], ...]:
    return tuple(_walk(get_resolver(urlconf).url_patterns, "", ""))


class EndpointListSerializer(serializers.Serializer):
    endpoints = serializers.DictField(
        child=serializers.URLField(),
        help_text=_("Every collection of this API version by name, with its URL."),
    )


class ApiRootApi(ApiView):
    """GET /api/v1/: the collections this version offers, found from the URLconf.

    A capability that adds a parameter-free route under /api/v1/ shows up here
    without editing this view.
    """

    @extend_schema(
        operation_id="api_root",
        summary="List the API's collections",
        responses={
            200: OpenApiResponse(
                EndpointListSerializer,
                examples=[
                    OpenApiExample(
                        "Endpoints",
                        value={
                            "endpoints": {
                                "tickets": "https://support.example.com/api/v1/tickets/",
                                "tiers": "https://support.example.com/api/v1/tiers/",
                                "priorities": "https://support.example.com/api/v1/priorities/",
                            }
                        },
                    )
                ],
            ),
            **error_responses(*READ_ERRORS),
        },
        tags=["meta"],
    )
    def get(self, request: Request) -> Response:
        urlconf = getattr(request, "urlconf", None)
        endpoints = {
            label: request.build_absolute_uri(reverse(name, urlconf=urlconf))
            for label, name in _api_collections(urlconf)
        }
        return Response({"endpoints": endpoints})


class BenchCeilingApi(ApiView):
    """The cheapest authenticated API answer: the API benchmark's ceiling.

    Same authentication, throttles and renderer as every endpoint, no queries of
    its own. Routed only when BENCHMARK_ENDPOINTS is on (benchmarks/api.py).
    """

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for URLs no route matches: JSON under /api/, the portal's page elsewhere.

    An API client asking for ``/api/v1/tickets/abc/`` gets the API's error shape,
    not an HTML page it cannot read.
    """
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": str(_("Not found.")), "code": "not_found"}, status=404
        )
    return defaults.page_not_found(request, exception)
