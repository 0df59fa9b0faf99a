"""Every route x every role x every declared method answers as route_policy.py says.

Each request runs in a savepoint that is rolled back, so requests do not see each
other's writes; a GET or a refused request (4xx) must leave the database as it was.
"""

import fnmatch

import pytest

from .conftest import ROLES, World, changed_tables, database_fingerprint, rolled_back
from .matrix import declared_routes, request, resolve, route_groups
from .route_policy import ALL_METHODS, KNOWN_DEFECTS, PATTERNS, ROUTES
from .routes import Route

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def test_every_route_is_declared_in_the_policy_table():
    undeclared = [r.key for r in declared_routes() if resolve(r) is None]

    assert undeclared == [], (
        "Routes without a policy: declare who may use them in "
        f"tests/security/route_policy.py: {undeclared}"
    )


def test_every_policy_entry_names_a_route_that_exists():
    keys = {r.key for r in declared_routes()}
    stale = [key for key in ROUTES if key not in keys]
    unused_patterns = [
        pattern
        for pattern in PATTERNS
        if not any(fnmatch.fnmatchcase(key, pattern) for key in keys)
    ]

    assert stale == [], f"route_policy.py declares routes that do not exist: {stale}"
    assert unused_patterns == []


def test_api_routes_declare_every_method():
    for route in declared_routes():
        resolved = resolve(route)
        if resolved and route.route.startswith("api/v1/"):
            assert set(resolved.policy.expect) == set(ALL_METHODS), route.key


def check_route(world: World, route: Route) -> list[str]:
    """Request the route as every role with every declared method; list mismatches."""
    resolved = resolve(route, world)
    assert resolved is not None, f"{route.key} is not declared in route_policy.py"
    url = resolved.url(world)
    clients = {role: world.client(role) for role in ROLES}
    mismatches = []
    for method, statuses in resolved.policy.expect.items():
        for role, expected in zip(ROLES, statuses, strict=True):
            with rolled_back():
                before = database_fingerprint()
                response = request(clients[role], method, url, resolved.policy)
                after = database_fingerprint()
            actual = response.status_code
            if actual != expected:
                mismatches.append(f"{method} {url} as {role}: {actual} != {expected}")
            if method == "GET" or actual >= 400:
                changed = changed_tables(before, after)
                if changed:
                    mismatches.append(
                        f"{method} {url} as {role} ({actual}) changed {changed}"
                    )
            for header, value in SECURITY_HEADERS.items():
                if response.get(header) != value:
                    mismatches.append(f"{method} {url} as {role}: {header} missing")
            if "Content-Security-Policy" not in response:
                mismatches.append(f"{method} {url} as {role}: no CSP header")
    return mismatches


def _group_params() -> list[object]:
    params: list[object] = []
    for group in route_groups():
        if group in KNOWN_DEFECTS:
            mark = pytest.mark.xfail(reason=KNOWN_DEFECTS[group], strict=True)
            params.append(pytest.param(group, marks=mark))
        else:
            params.append(group)
    return params


def test_known_defects_name_existing_routes():
    assert set(KNOWN_DEFECTS) <= set(route_groups())


@pytest.mark.parametrize("group", _group_params())
def test_routes_answer_each_role_as_declared(world: World, group: str):
    mismatches = []
    for route in route_groups()[group]:
        mismatches += check_route(world, route)

    assert mismatches == [], "\n".join(mismatches)
