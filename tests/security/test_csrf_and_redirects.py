"""CSRF on every state-changing route, and same-site-only redirects after sign-in/out.

The routes come from the URLconf walk, so a future form or endpoint is covered
without editing this file (unless it is exempt, which route_policy.py must say).
"""

import pytest

from tests.factories import PASSWORD

from .conftest import ROLES, World, changed_tables, database_fingerprint, rolled_back
from .matrix import request, resolve, route_groups
from .routes import Route

pytestmark = pytest.mark.django_db

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _state_changing(route: Route) -> bool:
    """Whether some role's unsafe request to the route is not simply a 405."""
    resolved = resolve(route)
    if resolved is None or resolved.policy.csrf_exempt:
        return False
    return any(
        status != 405
        for method in UNSAFE
        for status in resolved.policy.expect.get(method, ())
    )


def state_changing_groups() -> dict[str, list[Route]]:
    groups = {
        name: [route for route in routes if _state_changing(route)]
        for name, routes in route_groups().items()
    }
    return {name: routes for name, routes in groups.items() if routes}


def test_every_form_route_is_found():
    keys = {r.key for routes in state_changing_groups().values() for r in routes}

    assert {"tickets:new", "tickets:comment", "accounts:tokens", "api:tickets"} <= keys


def _csrf_problems(world: World, route: Route) -> list[str]:
    resolved = resolve(route, world)
    assert resolved is not None
    url = resolved.url(world)
    is_api = route.route.startswith("api/")
    problems = []
    for method in UNSAFE:
        if method not in resolved.policy.expect:
            continue
        for role in ROLES:
            client = world.client(role, enforce_csrf=True)
            with rolled_back():
                before = database_fingerprint()
                response = request(client, method, url, resolved.policy)
                after = database_fingerprint()
            expected = {401} if is_api and role == "anonymous" else {403}
            if is_api and role != "anonymous":
                expected.add(405)  # methods the API does not offer at all
            if response.status_code not in expected:
                problems.append(f"{method} {url} as {role}: {response.status_code}")
            if changed_tables(before, after):
                problems.append(
                    f"{method} {url} as {role} wrote {changed_tables(before, after)}"
                )
    return problems


@pytest.mark.parametrize("group", list(state_changing_groups()))
def test_unsafe_requests_without_a_csrf_token_are_refused(world: World, group: str):
    problems = []
    for route in state_changing_groups()[group]:
        problems += _csrf_problems(world, route)

    assert problems == [], "\n".join(problems)


# --- redirects -------------------------------------------------------------------

OFFSITE = [
    "https://evil.example.com/",
    "//evil.example.com/",
    "/\\evil.example.com/",
    "http:evil.example.com",
    "javascript:alert(1)",
    "https://testserver.evil.example.com/",
]


def same_site(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", OFFSITE)
def test_login_redirects_only_to_same_site_targets(client, alice, target):
    response = client.post(
        f"/accounts/login/?next={target}",
        {"username": alice.user.email, "password": PASSWORD, "next": target},
    )

    assert response.status_code == 302
    assert same_site(response["Location"]), response["Location"]


def test_login_keeps_a_same_site_target(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": alice.user.email, "password": PASSWORD, "next": "/tickets/"},
    )

    assert response["Location"] == "/tickets/"


@pytest.mark.parametrize("target", OFFSITE)
def test_signed_in_visit_to_login_ignores_offsite_next(alice_client, target):
    response = alice_client.get(f"/accounts/login/?next={target}")

    assert response.status_code == 302
    assert same_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", OFFSITE)
def test_logout_redirects_only_to_same_site_targets(alice_client, target):
    response = alice_client.post("/accounts/logout/", {"next": target})

    assert response.status_code == 302
    assert same_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", OFFSITE)
def test_admin_login_redirects_only_to_same_site_targets(client, engineer, target):
    response = client.post(
        "/admin/login/",
        {"username": engineer.email, "password": PASSWORD, "next": target},
    )

    assert response.status_code == 302
    assert same_site(response["Location"]), response["Location"]
