"""Presence: the page says who else has the ticket open; the heartbeat keeps it."""

import pytest
from django.urls import reverse

from tests.conftest import signed_in
from tickets import services
from tickets.workspace.collision import Seen

pytestmark = pytest.mark.django_db


def beat(client, ticket, **data):
    return client.post(
        reverse("admin:tickets_ticket_workspace_presence", args=[ticket.pk]), data
    ).json()


def test_another_engineer_on_the_ticket_is_shown(eli_client, erin, file_ticket):
    ticket = file_ticket()
    erin_client = signed_in(erin)

    assert beat(erin_client, ticket)["others"] == []
    answer = beat(eli_client, ticket, typing="1")
    page = erin_client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    assert answer["others"] == [{"name": "Erin Other", "typing": False}]
    assert "Eli Engineer" in page.content.decode()
    assert "also has this ticket open" in page.content.decode()
    assert beat(erin_client, ticket)["others"] == [
        {"name": "Eli Engineer", "typing": True}
    ]


def test_the_heartbeat_says_when_someone_changed_the_ticket(
    eli_client, erin, file_ticket
):
    ticket = file_ticket()
    seen = Seen.of(ticket).token()

    before = beat(eli_client, ticket, seen=seen)["changed"]
    services.comment_create(ticket=ticket, author=erin, body="Answered")
    after = beat(eli_client, ticket, seen=seen)["changed"]

    assert (before, after) == (False, True)


def test_the_heartbeat_is_for_staff_and_post_only(
    alice_client, eli_client, file_ticket
):
    ticket = file_ticket()
    url = reverse("admin:tickets_ticket_workspace_presence", args=[ticket.pk])

    assert alice_client.post(url).status_code == 302  # to the admin's login
    assert eli_client.get(url).status_code == 405
