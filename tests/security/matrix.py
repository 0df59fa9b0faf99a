"""Resolve routes to their declared policy and make the requests the policy names.

Shared by the route matrix, the CSRF walk, the canary walk and the XSS walk, so all
of them cover exactly the routes the URLconf has, now and after future additions.
"""

import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.http import HttpResponse
from django.test import Client

from .conftest import World
from .route_policy import (
    ADMIN_ACTIONS,
    ADMIN_MODELS,
    ADMIN_OBJECT_REDIRECT,
    PATTERNS,
    ROUTES,
    Policy,
    admin_model_policy,
)
from .routes import Route, all_routes

_ADMIN_OBJECT_ROUTE = re.compile(
    r"^admin/(?P<app>\w+)/(?P<model>\w+)/<path:object_id>/$"
)


def _admin_models() -> dict[str, str]:
    """'app_model' -> 'app.model' for every model registered in the admin."""
    return {
        f"{m._meta.app_label}_{m._meta.model_name}": m._meta.label_lower
        for m in admin.site._registry
    }


@dataclass(frozen=True)
class Resolved:
    route: Route
    policy: Policy
    admin_model: str | None = None  # label of the admin model page, if one

    def url(self, world: World) -> str:
        values = world.url_values
        if self.admin_model is not None:
            values["object_id"] = world.admin_objects.get(self.admin_model) or "0"
        return self.route.url(values)


def resolve(route: Route, world: World | None = None) -> Resolved | None:
    """The route's declared policy, or None when the table does not declare it."""
    if route.key in ROUTES:
        return Resolved(route, ROUTES[route.key])
    models = _admin_models()
    if route.namespace == "admin" and route.name:
        base = route.name.removeprefix("admin:")
        for prefix, label in models.items():
            for action in ADMIN_ACTIONS:
                if base == f"{prefix}_{action}" and label in ADMIN_MODELS:
                    has_object = world is None or bool(world.admin_objects.get(label))
                    policy = admin_model_policy(action, ADMIN_MODELS[label], has_object)
                    return Resolved(route, policy, admin_model=label)
    match = _ADMIN_OBJECT_ROUTE.match(route.route)
    if match and models.get(f"{match['app']}_{match['model']}") in ADMIN_MODELS:
        label = models[f"{match['app']}_{match['model']}"]
        return Resolved(route, ADMIN_OBJECT_REDIRECT, admin_model=label)
    for pattern, policy in PATTERNS.items():
        if fnmatch.fnmatchcase(route.key, pattern):
            return Resolved(route, policy)
    return None


def declared_routes() -> list[Route]:
    return all_routes()


_ADMIN_MODEL_PAGE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")


def route_groups() -> dict[str, list[Route]]:
    """Routes to test together: one admin model's pages share a group, else one each.

    A group shares one test world, which keeps the walk over every admin page fast.
    """
    models = _admin_models()
    groups: dict[str, list[Route]] = {}
    for route in declared_routes():
        match = _ADMIN_MODEL_PAGE.match(route.route)
        label = models.get(f"{match['app']}_{match['model']}") if match else None
        groups.setdefault(f"admin model {label}" if label else route.key, []).append(
            route
        )
    return groups


def request(
    client: Client, method: str, url: str, policy: Policy, **extra: Any
) -> HttpResponse:
    """Send ``method`` to ``url`` with the policy's body for that method."""
    data = policy.data.get(method)
    if callable(data):  # files: a fresh upload each time, sent as multipart
        assert method == "POST", "file uploads are POSTed"
        return client.post(url, data(), **extra)
    if policy.content == "json":
        body = json.dumps(data if data is not None else {})
        return client.generic(
            method, url, body, content_type="application/json", **extra
        )
    if method == "GET":
        return client.get(url, **extra)
    if method == "POST":
        return client.post(url, data or {}, **extra)
    return client.generic(method, url, "", **extra)
