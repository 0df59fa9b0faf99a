"""Cached list and thread fragments never show stale or foreign content."""

import time

import pytest
from django.urls import reverse

from tests.factories import TicketFactory
from tickets import cache as ticket_cache
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


def test_an_entry_rendered_before_a_change_is_rendered_again(alice, settle_cache_bumps):
    settle_cache_bumps()

    def fragment(html: str) -> str:
        return ticket_cache.fragment(
            organization_id=alice.organization_id,
            name="test",
            parts=(1,),
            render=lambda: html,
        )

    assert fragment("first") == "first"
    assert fragment("second") == "first"

    ticket_cache.organization_changed(alice.organization_id)

    assert fragment("second") == "second"


def test_thread_shows_a_priority_change_after_it_was_cached(
    alice_client, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization)
    url = reverse("tickets:detail", args=[ticket.number])
    alice_client.get(url)

    services.ticket_priority_change(
        ticket=ticket, actor=engineer, priority=0, reason="CANARY-prod-down"
    )

    assert "CANARY-prod-down" in alice_client.get(url).content.decode()


def test_a_change_that_sends_no_signal_shows_once_the_entry_is_stale(
    alice_client,
    alice,
    monkeypatch,
    django_capture_on_commit_callbacks,
    settle_cache_bumps,
):
    """Bulk updates bypass the signals; entries expire after ``STALE_AFTER``."""
    monkeypatch.setattr(ticket_cache, "STALE_AFTER", 1)
    settle_cache_bumps()
    with django_capture_on_commit_callbacks(execute=True):  # committed, as it were
        ticket = TicketFactory(organization=alice.organization, subject="Old subject")
    url = reverse("tickets:detail", args=[ticket.number])
    assert "Old subject" in alice_client.get(url).content.decode()

    type(ticket).objects.filter(pk=ticket.pk).update(subject="Quietly renamed")
    assert "Old subject" in alice_client.get(url).content.decode()  # still cached

    time.sleep(1.2)
    page = alice_client.get(url).content.decode()
    assert "Old subject" not in page
    assert "Quietly renamed" in page


def test_a_comment_never_carries_the_viewers_csrf_token(
    alice, bob, engineer, alice_client
):
    """The old page swapped a placeholder for the token everywhere, user text too."""
    from django.test import Client

    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    services.comment_create(
        ticket=ticket,
        author=alice.user,
        body="See https://evil.example/?t=csrf-token-placeholder-5b0c1e please",
    )
    url = reverse("tickets:detail", args=[ticket.number])
    alice_client.get(url)  # cached by someone else first

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bob.user)
    page = strict.get(url).content.decode()

    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert "evil.example/?t=csrf-token-placeholder-5b0c1e" in page
    assert f"?t={token}" not in page
    assert page.count(token) == page.count('name="csrfmiddlewaretoken"')


def test_the_cached_ticket_page_holds_no_form_and_no_token(
    alice, alice_client, django_capture_on_commit_callbacks, settle_cache_bumps
):
    from django.core.cache import cache

    settle_cache_bumps()

    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    alice_client.get(reverse("tickets:detail", args=[ticket.number]))

    stored = [
        cache.get(key)
        for key in cache._cache.get_client().keys("*tickets:fragment:*")  # type: ignore[attr-defined]
    ]
    assert stored
    assert not any("csrfmiddlewaretoken" in str(value) for value in stored)
    assert not any("<form" in str(value) for value in stored)
