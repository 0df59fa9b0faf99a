"""An internal note's text never reaches a customer, on any page or API response.

The world plants a canary note on organisation A's ticket; this walks every route a
customer can GET (from the URLconf, so later pages are covered too) as both of A's
customers, plus the list and search views with queries that would match the note.
Email and Slack tests call ``canary.assert_no_canary`` on what they send.
"""

import pytest

from .canary import assert_no_canary
from .conftest import CUSTOMER_ROLES, World
from .matrix import declared_routes, request, resolve

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_staff_do_see_the_canary(world: World):
    """The check below would be empty if the canary never rendered at all."""
    page = world.client("engineer").get(f"/tickets/{world.ticket_a.number}/")
    api = world.client("engineer").get(
        f"/api/v1/tickets/{world.ticket_a.number}/comments/"
    )

    assert world.canary.value in page.content.decode()
    assert world.canary.value in api.content.decode()


def test_no_customer_visible_response_contains_the_canary(world: World):
    seen = 0
    for route in declared_routes():
        resolved = resolve(route, world)
        assert resolved is not None, route.key
        if not resolved.policy.customer_visible or "GET" not in resolved.policy.expect:
            continue
        if route.namespace == "admin" or route.route.startswith("admin/"):
            continue  # staff only: the route matrix proves customers are sent away
        url = resolved.url(world)
        for role in CUSTOMER_ROLES:
            response = request(world.client(role), "GET", url, resolved.policy)
            if response.status_code == 200:
                seen += 1
            assert_no_canary(world.canary, [_body(response)], where=f"GET {url}")
    assert seen >= 20  # the walk really rendered pages


@pytest.mark.parametrize(
    "path",
    [
        "/tickets/?q=Internal+only",
        "/api/v1/tickets/?page_size=100",
        "/api/v1/tickets/{number}/comments/?page_size=100",
        "/api/v1/tickets/{number}/attachments/",
        "/api/v1/tickets/{number}/",
    ],
)
def test_searches_and_api_lists_do_not_reveal_the_canary(world: World, path: str):
    url = path.format(canary=world.canary.value, number=world.ticket_a.number)
    for role in CUSTOMER_ROLES:
        response = world.client(role).get(url)

        assert response.status_code == 200
        assert_no_canary(world.canary, [response.content], where=f"GET {url}")


def test_searching_for_the_canarys_text_finds_nothing(world: World):
    for role in CUSTOMER_ROLES:
        page = world.client(role).get("/tickets/", {"q": world.canary.value})

        assert page.status_code == 200
        assert f"/tickets/{world.ticket_a.number}/" not in page.content.decode()


def test_the_canary_notes_file_cannot_be_downloaded_by_customers(world: World):
    hidden = world.canary.note.attachments.get()
    number = world.ticket_a.number
    for role in CUSTOMER_ROLES:
        client = world.client(role)

        portal = client.get(f"/tickets/{number}/attachments/{hidden.pk}/")
        api = client.get(f"/api/v1/tickets/{number}/attachments/{hidden.pk}/")

        assert portal.status_code == api.status_code == 404
