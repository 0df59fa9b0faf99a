"""An engineer releases a quarantined email in a real browser, as a chosen contact."""

import smtplib

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from notifications.inbound import inbound_process
from notifications.management.commands.receive_mail import StoreHandler
from notifications.models import InboundDecision, InboundMessage
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.browser.test_portal_browser import sign_in
from tests.factories import (
    ContactFactory,
    OrganizationFactory,
    StaffFactory,
    TicketFactory,
)
from tests.notifications.builders import free_port, raw_email

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def smtp_server():
    """The real receiver (``receive_mail``'s handler) on a free loopback port."""
    port = free_port()
    controller = Controller(StoreHandler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def test_engineer_releases_a_quarantined_reply_as_the_contact(
    live_server, page, smtp_server
):
    org = OrganizationFactory(name="Acme Corp")
    alice = ContactFactory(organization=org, user__email="alice@acme.example.com")
    ticket = TicketFactory(organization=org, requester=alice.user)
    engineer = StaffFactory(email="engineer@support.example.com")
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    # Alice writes from her phone's relay: the envelope sender is not her address.
    raw = raw_email(
        sender=alice.user.email,
        subject=f"Re: [#{ticket.number}] Runs stuck",
        body="Restarting the <b>agent</b> fixed it.",
    )
    with smtplib.SMTP("127.0.0.1", smtp_server) as client:
        client.sendmail("bounces+123@relay.example.net", ["support@x"], raw)
    message = InboundMessage.objects.get()
    inbound_process(inbound_id=message.pk)

    sign_in(page, live_server.url, engineer.email)
    page.goto(
        f"{live_server.url}/admin/notifications/inboundmessage/"
        "?reason_code__exact=envelope_mismatch"
    )
    page.get_by_role("link", name=alice.user.email).click()
    expect(page.get_by_text("Restarting the <b>agent</b> fixed it.")).to_be_visible()
    page.get_by_role("link", name="Release as a contact onto a ticket").click()
    expect(page.get_by_label("Author")).to_have_value(alice.user.email)
    expect(page.get_by_label("Ticket number")).to_have_value(str(ticket.number))
    page.get_by_role("button", name="Release the message").click()

    expect(page.get_by_text(f"Released onto ticket #{ticket.number}.")).to_be_visible()
    comment = ticket.comments.get()
    assert comment.author == alice.user
    assert comment.body == "Restarting the <b>agent</b> fixed it."
    assert InboundDecision.objects.get().actor == engineer
