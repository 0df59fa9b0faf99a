"""A technical contact files a ticket in a real browser; an engineer sees it queued."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.factories import PASSWORD, ContactFactory, OrganizationFactory, StaffFactory
from tickets.models import Ticket

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_contact_files_ticket_with_attachment_and_engineer_sees_it_queued(
    live_server, page, tmp_path: Path
):
    org = OrganizationFactory(name="Acme Corp")
    ContactFactory(organization=org, user__email="alice@acme.example.com")
    engineer = StaffFactory(email="engineer@support.example.com")
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    log = tmp_path / "agent.log"
    log.write_text("ERROR run 42 stuck in pending\n")

    sign_in(page, live_server.url, "alice@acme.example.com")
    page.get_by_role("link", name="New ticket").first.click()
    page.get_by_label("Subject").fill("Runs stuck in pending after upgrade")
    page.get_by_label("P1 Critical").check()
    page.get_by_label("Description").fill("New runs stay **pending** since 9.4.")
    page.get_by_label("Attachments").set_input_files(str(log))
    page.get_by_role("button", name="Submit ticket").click()

    ticket = Ticket.objects.get()
    page.wait_for_url(f"**/tickets/{ticket.number}/")
    assert page.get_by_role("link", name="agent.log").is_visible()
    assert page.locator("strong", has_text="pending").is_visible()

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Tickets"
    ).click()
    row = page.get_by_role("row").filter(has_text="Runs stuck in pending after upgrade")
    assert row.get_by_text(f"#{ticket.number}").is_visible()
    assert row.get_by_text("P1 Critical").is_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, "engineer@support.example.com")
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    queued = page.get_by_role("row").filter(
        has_text="Runs stuck in pending after upgrade"
    )
    assert queued.get_by_text("Acme Corp").is_visible()
    assert queued.get_by_text("P1 Critical").is_visible()
