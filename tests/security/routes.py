"""Every URL pattern of the project, found by walking the root URLconf.

The security suite never lists routes by hand: it walks ``get_resolver()`` (portal,
accounts, admin, API, webhooks, whatever is included later) and looks each route
up in ``route_policy.py``. A route that is not declared there fails the suite.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_OPTIONAL_GROUP = re.compile(r"\((?!\?P<)[^()]*\)\?")
_NAMED_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its dotted name (``namespace:name``) and its full route."""

    name: str | None
    route: str  # the concatenated pattern strings, e.g. "tickets/<int:number>/"
    callback: Any

    @property
    def key(self) -> str:
        """How the policy table refers to it: the name, else ``route:<pattern>``."""
        return self.name or f"route:{self.route}"

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0] if self.name else ""

    @property
    def parameters(self) -> list[str]:
        regex_names = [m["name"] for m in _NAMED_GROUP.finditer(self.route)]
        plain = _NAMED_GROUP.sub("", self.route)
        return regex_names + [m["name"] for m in _CONVERTER.finditer(plain)]

    def url(self, values: dict[str, Any]) -> str:
        """The route with every parameter filled from ``values``."""
        path = self.route.replace("^", "").replace("$", "")
        path = _OPTIONAL_GROUP.sub("", path)
        path = _NAMED_GROUP.sub(lambda m: str(values[m["name"]]), path)
        path = _CONVERTER.sub(lambda m: str(values[m["name"]]), path)
        return "/" + path


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str, namespace: str
) -> list[Route]:
    found: list[Route] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            found += _walk(pattern.url_patterns, route, inner)
        else:
            name = f"{namespace}{pattern.name}" if pattern.name else None
            found.append(Route(name=name, route=route, callback=pattern.callback))
    return found


def all_routes() -> list[Route]:
    """Every pattern of the root URLconf, each route once (first one wins)."""
    seen: set[str] = set()
    routes = []
    for route in _walk(get_resolver().url_patterns, "", ""):
        if route.route not in seen:
            seen.add(route.route)
            routes.append(route)
    return routes
