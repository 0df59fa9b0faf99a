"""Cached list and thread fragments never show stale or foreign content."""

import pytest
from django.urls import reverse

from tests.factories import TicketFactory
from tickets import services
from tickets.choices import Status

pytestmark = pytest.mark.django_db


def test_list_shows_a_new_ticket_after_it_was_cached(alice_client, alice):
    TicketFactory(organization=alice.organization, subject="First ticket")
    assert "First ticket" in alice_client.get(reverse("tickets:list")).content.decode()

    TicketFactory(organization=alice.organization, subject="Second ticket")

    assert "Second ticket" in alice_client.get(reverse("tickets:list")).content.decode()


def test_thread_shows_a_new_reply_after_it_was_cached(alice_client, alice, engineer):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    url = reverse("tickets:detail", args=[ticket.number])
    alice_client.get(url)

    services.comment_create(ticket=ticket, author=engineer, body="Fresh answer")

    assert "Fresh answer" in alice_client.get(url).content.decode()


def test_cached_thread_for_staff_is_not_served_to_customers(
    alice_client, engineer_client, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization)
    services.comment_create(
        ticket=ticket, author=engineer, body="CANARY-cached-note", is_public=False
    )
    url = reverse("tickets:detail", args=[ticket.number])

    assert "CANARY-cached-note" in engineer_client.get(url).content.decode()
    assert "CANARY-cached-note" not in alice_client.get(url).content.decode()


def test_cached_list_of_one_organisation_is_not_served_to_another(
    alice_client, gina_client, alice, gina
):
    TicketFactory(organization=alice.organization, subject="Acme only")
    alice_client.get(reverse("tickets:list"))

    assert "Acme only" not in gina_client.get(reverse("tickets:list")).content.decode()


def test_cached_page_carries_each_visitors_own_csrf_token(
    alice, bob, alice_client, bob_client
):
    from django.test import Client

    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    url = reverse("tickets:detail", args=[ticket.number])
    alice_client.get(url)

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bob.user)
    page = strict.get(url).content.decode()

    assert "csrf-token-placeholder" not in page
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = strict.post(
        reverse("tickets:solve", args=[ticket.number]), {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
