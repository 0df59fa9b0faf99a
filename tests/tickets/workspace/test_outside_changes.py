"""Changes made outside the workspace show at once in the engineer's ticket page.

The page reuses its rendered thread and side panels (``page._thread_fragment``,
``page._side_fragment``); each test first renders the page so that they are cached,
then changes the ticket through another path and reads the page again. Status
and assignee changes are recorded by the services with their actor, whichever
way they came.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.inbound import inbound_process, inbound_store
from notifications.tokens import reply_address
from tests.api.conftest import token_client
from tests.factories import ContactFactory
from tests.notifications.builders import raw_email
from tickets import services
from tickets.choices import Status
from tickets.models import TicketAudit
from tickets.workspace import bulk

from .test_ticket_page import page_url

pytestmark = pytest.mark.django_db


def status_line(who, old, new):
    return (
        f"<strong>{who.display_name}</strong>\n      changed the status from "
        f"{Status(old).label} to <strong>{Status(new).label}</strong>"
    )


@pytest.fixture
def ticket(file_ticket, erin):
    """A ticket filed by Alice that support answered: it waits on her."""
    filed = file_ticket()
    services.comment_create(ticket=filed, author=erin, body="Which version?")
    filed.refresh_from_db()
    assert filed.status == Status.WAITING_ON_CUSTOMER
    return filed


def page(client, ticket):
    response = client.get(page_url(ticket))
    assert response.status_code == 200
    return response.content.decode()


def test_a_customer_solving_and_reopening_in_the_portal_shows_who_did_it(
    eli_client, alice, alice_client, ticket
):
    page(eli_client, ticket)

    alice_client.post(reverse("tickets:solve", args=[ticket.number]))
    solved = page(eli_client, ticket)
    alice_client.post(reverse("tickets:reopen", args=[ticket.number]))
    reopened = page(eli_client, ticket)

    assert status_line(alice.user, "waiting_on_customer", "solved") in solved
    assert "The ticket became" not in solved  # shown once, with its actor
    assert status_line(alice.user, "solved", "open") in reopened


def test_a_status_change_through_the_api_shows_who_did_it(eli_client, alice, ticket):
    page(eli_client, ticket)

    response = token_client(alice.user).patch(
        f"/api/v1/tickets/{ticket.number}/", {"status": "solved"}, format="json"
    )

    assert response.status_code == 200
    assert status_line(alice.user, "waiting_on_customer", "solved") in page(
        eli_client, ticket
    )


def test_an_engineer_assigning_through_the_api_shows_in_the_thread(
    eli_client, erin, ticket
):
    page(eli_client, ticket)

    response = token_client(erin).patch(
        f"/api/v1/tickets/{ticket.number}/", {"assignee": erin.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    html = page(eli_client, ticket)
    assert f"assigned the ticket to <strong>{erin.display_name}</strong>" in html
    assert TicketAudit.objects.get(ticket=ticket, action="assignee").actor == erin


def test_an_email_reply_that_reopens_shows_the_reply_and_who_reopened(
    eli_client, alice, ticket
):
    page(eli_client, ticket)

    message = inbound_store(
        raw=raw_email(
            sender=alice.user.email,
            to=reply_address(ticket_number=ticket.number, user_id=alice.user.pk),
            body="Still broken after the upgrade.",
        ),
        transport="test",
        envelope_from="",
        envelope_to=None,
    )
    inbound_process(inbound_id=message.pk)
    html = page(eli_client, ticket)

    assert "Still broken after the upgrade." in html
    assert status_line(alice.user, "waiting_on_customer", "open") in html


def test_the_auto_close_shows_at_once(eli_client, ticket):
    services.ticket_status_change(
        ticket=ticket, actor=ticket.requester, status=Status.SOLVED
    )
    ticket.refresh_from_db()
    page(eli_client, ticket)

    closed = services.tickets_close_solved(now=timezone.now() + timedelta(days=30))

    assert closed == 1
    assert "The ticket became <strong>Closed</strong>" in page(eli_client, ticket)


def test_a_portal_reply_shows_at_once(eli_client, alice_client, ticket):
    page(eli_client, ticket)

    alice_client.post(
        reverse("tickets:comment", args=[ticket.number]), {"body": "Any news?"}
    )

    assert "Any news?" in page(eli_client, ticket)


def test_a_new_technical_contact_shows_at_once(eli_client, alice, ticket):
    page(eli_client, ticket)

    ContactFactory(
        organization=alice.organization,
        is_technical_contact=True,
        user__first_name="Quentin",
        user__last_name="Newcomer",
    )

    assert "Quentin Newcomer" in page(eli_client, ticket)


def test_a_bulk_status_change_is_recorded_once_with_its_batch(eli, eli_client, ticket):
    page(eli_client, ticket)

    result = bulk.tickets_bulk_change(
        actor=eli,
        ticket_ids=[ticket.pk],
        change=bulk.BulkChange(action="status", value=Status.ON_HOLD),
    )

    rows = list(
        TicketAudit.objects.filter(ticket=ticket, action="status", to_value="On hold")
    )
    assert [t.pk for t in result.changed] == [ticket.pk]
    assert len(rows) == 1
    assert rows[0].actor == eli
    assert rows[0].batch is not None
    assert status_line(eli, "waiting_on_customer", "on_hold") in page(
        eli_client, ticket
    )


def test_a_failed_change_leaves_no_audit_row(alice, ticket):
    ticket.status = Status.CLOSED
    ticket.save(update_fields=["status"])
    before = TicketAudit.objects.filter(ticket=ticket).count()

    with pytest.raises(Exception, match="closed"):
        services.ticket_status_change(
            ticket=ticket, actor=alice.user, status=Status.SOLVED
        )

    assert TicketAudit.objects.filter(ticket=ticket).count() == before
