"""The SLA in the customer's terms on the ticket page, the form and the list."""

import pytest

from tests.factories import ContactFactory
from tickets import services
from tickets.choices import Priority

pytestmark = pytest.mark.django_db


def open_ticket(contact, priority):
    return services.ticket_create(
        requester=contact.user,
        data=services.TicketInput(
            subject="Agent pool offline",
            description="All agents disconnected.",
            priority=priority,
            category="bug",
            deployment="saas",
        ),
    )


def test_business_day_ticket_explains_target_and_calendar(alice, alice_client):
    ticket = open_ticket(alice, Priority.MINOR)  # Business P3: 1 business day
    page = alice_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "First response due by" in page
    assert "1 business day (P3 Minor, Business plan)" in page
    assert "Business hours Mon-Fri 09:00-17:00" in page


def test_24x7_ticket_states_its_target_without_a_calendar(alice, alice_client):
    ticket = open_ticket(alice, Priority.CRITICAL)  # Business P1: 4 hours, 24x7
    page = alice_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "4 hours (P1 Critical, Business plan)" in page
    assert "Business hours" not in page


def test_due_time_is_shown_in_the_organisations_zone(alice, alice_client):
    organization = alice.organization
    organization.timezone = "America/New_York"
    organization.save(update_fields=["timezone"])
    ticket = open_ticket(alice, Priority.CRITICAL)
    page = alice_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert " EST" in page or " EDT" in page


def test_new_ticket_form_explains_targets_and_business_hours(alice_client):
    page = alice_client.get("/tickets/new/").content.decode()
    assert "Business hours Mon-Fri 09:00-17:00" in page
    assert "if opened now" in page
    assert "Response target: 1 business day" in page


def test_list_tells_a_non_technical_contact_who_can_open_tickets(alice, bob_client):
    page = bob_client.get("/tickets/").content.decode()
    assert 'href="/tickets/new/"' not in page
    assert "only technical contacts" in page
    assert alice.user.display_name in page


def test_list_names_the_admins_when_there_is_no_technical_contact(bob, bob_client):
    admin = ContactFactory(
        organization=bob.organization,
        is_technical_contact=False,
        is_organization_admin=True,
    )
    page = bob_client.get("/tickets/").content.decode()
    assert admin.user.display_name in page
