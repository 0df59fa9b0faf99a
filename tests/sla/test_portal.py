"""What customers see: their due time in their own timezone, or best effort."""

from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils.dateformat import format as date_format

from tests.conftest import signed_in
from tickets import services
from tickets.choices import Priority

from .conftest import open_ticket, running

pytestmark = pytest.mark.django_db


def test_business_customer_sees_first_response_due_in_their_timezone(alice):
    alice.organization.timezone = "America/New_York"
    alice.organization.save(update_fields=["timezone"])
    ticket = open_ticket(alice, Priority.CRITICAL)
    local_due = running(ticket).due_at.astimezone(ZoneInfo("America/New_York"))
    client = signed_in(alice.user)

    detail = client.get(reverse("tickets:detail", args=[ticket.number]))
    listing = client.get(reverse("tickets:list"))

    expected = date_format(local_due, "D j M Y, H:i T")
    assert "First response due by" in detail.content.decode()
    assert expected in detail.content.decode()
    assert expected.split(", ")[1] in listing.content.decode()
    assert "First response due by" in listing.content.decode()


def test_answered_ticket_shows_when_support_responded(alice, engineer):
    ticket = open_ticket(alice)
    services.comment_create(ticket=ticket, author=engineer, body="On it")

    html = (
        signed_in(alice.user)
        .get(reverse("tickets:detail", args=[ticket.number]))
        .content.decode()
    )

    assert "First response due by" not in html
    assert "First response" in html


def test_free_customer_sees_the_best_effort_wording(frank):
    ticket = open_ticket(frank, Priority.BLOCKER)

    html = (
        signed_in(frank.user)
        .get(reverse("tickets:detail", args=[ticket.number]))
        .content.decode()
    )

    assert "First response due by" not in html
    assert (
        "Scalr support will endeavour to respond within the same business day but "
        "cannot guarantee this." in html
    )
