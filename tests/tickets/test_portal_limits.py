"""The portal's length limits: said next to the field, refused clearly, nothing lost."""

import pytest
from django.urls import reverse

from tests.factories import TicketFactory
from tickets.choices import Status
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db


def test_a_reply_over_100000_characters_is_refused_and_kept(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    body = "long log line\n" * 7200  # 100,800 characters

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]), {"body": body}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Keep this under 100,000 characters" in page
    assert page.count("long log line") == 7200  # every character still in the form
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_a_description_over_100000_characters_is_refused(alice, alice_client):
    response = alice_client.post(
        reverse("tickets:new"),
        {
            "subject": "Too long",
            "priority": "3",
            "category": "bug",
            "deployment": "on_prem",
            "description": "x" * 100_001,
        },
    )

    assert response.status_code == 400
    assert "Keep this under 100,000 characters" in response.content.decode()
    assert not Ticket.objects.filter(subject="Too long").exists()


def test_the_limit_is_said_next_to_each_text_field(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    pages = [
        alice_client.get(url).content.decode()
        for url in (
            reverse("tickets:new"),
            reverse("tickets:detail", args=[ticket.number]),
        )
    ]
    new, detail = pages

    assert 'id="id_description_help">' in new
    assert all("Up to 100,000 characters." in page for page in pages)
    assert "maxlength" not in detail.split('name="body"')[1].split(">")[0]


def test_a_20_mb_comment_is_refused_before_it_is_read(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]),
        "body=" + "a" * (20 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert "The request is too large (20.0" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_an_oversized_api_body_gets_a_json_413(alice_client):
    response = alice_client.post(
        "/api/v1/tickets/",
        '{"subject": "' + "a" * (3 * 1024 * 1024) + '"}',
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
