"""Support engineers and managers work the quarantine in the admin."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from notifications.inbound import inbound_process, inbound_store
from notifications.models import InboundDecision, InboundMessage, InboundStatus
from notifications.quarantine import inbound_discard, inbound_release
from scalr_support.accounts.groups import SUPPORT_ENGINEER, SUPPORT_MANAGER
from scalr_support.common.errors import ValidationFailed
from tests.conftest import signed_in
from tests.factories import StaffFactory, TicketFactory
from tests.notifications.builders import raw_email
from tickets.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[SUPPORT_ENGINEER, SUPPORT_MANAGER])
def staff(request):
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=request.param))
    return user


@pytest.fixture
def ticket(alice):
    return TicketFactory(organization=alice.organization, requester=alice.user)


@pytest.fixture
def quarantined(alice, ticket) -> InboundMessage:
    """Alice's reply by subject tag through an ESP that gave no envelope sender."""
    raw = raw_email(
        sender=alice.user.email,
        subject=f"Re: [#{ticket.number}] <b>stuck</b>",
        body="It works again <script>alert(1)</script>",
        attachments=[("agent.log", b"ERROR boom\n", "text/plain")],
    )
    message = inbound_store(raw=raw, transport="webhook:postmark")
    inbound_process(inbound_id=message.pk)
    message.refresh_from_db()
    assert message.reason_code == "sender_unverified"
    return message


def test_staff_see_the_quarantine_with_reason_preview_and_attachments(
    staff, quarantined
):
    client = signed_in(staff)

    listing = client.get(
        reverse("admin:notifications_inboundmessage_changelist"),
        {"reason_code": "sender_unverified"},
    )
    page = client.get(
        reverse("admin:notifications_inboundmessage_change", args=[quarantined.pk])
    )

    assert listing.status_code == 200
    assert quarantined.from_address in listing.text
    assert page.status_code == 200
    assert "Nothing vouches for the From: address" in page.text
    assert "It works again &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)" not in page.text
    assert "agent.log (text/plain, 11\xa0bytes)" in page.text
    assert "Release as a contact onto a ticket" in page.text


def test_staff_see_failed_deliveries_and_failing_addresses(staff):
    client = signed_in(staff)

    index = client.get(reverse("admin:index"))

    for model in ("emaildelivery", "failingaddress", "inbounddecision"):
        url = reverse(f"admin:notifications_{model}_changelist")
        assert client.get(url).status_code == 200
    assert "Failing addresses" in index.text
    assert "addresss" not in index.text


def test_release_as_a_chosen_contact_makes_their_comment_once(
    staff, quarantined, bob, ticket
):
    client = signed_in(staff)
    url = reverse("admin:notifications_inboundmessage_release", args=[quarantined.pk])

    form = client.get(url)
    first = client.post(url, {"author": bob.user.email, "ticket_number": ticket.number})
    again = client.post(url, {"author": bob.user.email, "ticket_number": ticket.number})

    assert form.status_code == 200
    assert f'value="{ticket.number}"' in form.text  # the subject tag, prefilled
    assert first.status_code == 302
    assert again.status_code == 302  # a double click: done already, nothing added
    comment = Comment.objects.get()
    assert (comment.ticket, comment.author) == (ticket, bob.user)
    assert comment.body.startswith("It works again")
    assert comment.attachments.get().filename == "agent.log"
    quarantined.refresh_from_db()
    assert quarantined.status == InboundStatus.PROCESSED
    assert quarantined.comment == comment
    decision = InboundDecision.objects.get()
    assert (decision.action, decision.actor, decision.author) == (
        "release",
        staff,
        bob.user,
    )


def test_release_is_idempotent_in_the_service(quarantined, alice, ticket, engineer):
    for _ in range(2):
        inbound_release(
            inbound_id=quarantined.pk,
            actor=engineer,
            author=alice.user,
            ticket_number=ticket.number,
        )

    assert Comment.objects.count() == 1
    assert InboundDecision.objects.count() == 1


def test_release_onto_another_organisations_ticket_is_refused(
    staff, quarantined, gina, ticket
):
    client = signed_in(staff)
    url = reverse("admin:notifications_inboundmessage_release", args=[quarantined.pk])

    response = client.post(
        url, {"author": gina.user.email, "ticket_number": ticket.number}
    )

    assert response.status_code == 200
    assert f"{gina.user.email} cannot see ticket #{ticket.number}." in response.text
    assert not Comment.objects.exists()
    assert not InboundDecision.objects.exists()


def test_release_without_a_ticket_opens_one_as_the_contact(
    quarantined, alice, engineer
):
    released = inbound_release(
        inbound_id=quarantined.pk, actor=engineer, author=alice.user, ticket_number=None
    )

    assert released.ticket.requester == alice.user
    assert released.ticket.number != quarantined.ticket_id


def test_discard_needs_a_reason_and_happens_once(staff, quarantined):
    client = signed_in(staff)
    url = reverse("admin:notifications_inboundmessage_discard", args=[quarantined.pk])

    empty = client.post(url, {"note": "  "})
    done = client.post(url, {"note": "Phishing test by IT."})

    assert empty.status_code == 200
    assert done.status_code == 302
    quarantined.refresh_from_db()
    assert quarantined.status == InboundStatus.DISCARDED
    assert quarantined.reason.endswith("Phishing test by IT.")
    assert inbound_discard(inbound_id=quarantined.pk, actor=staff, note="again")
    decision = InboundDecision.objects.get()
    assert (decision.action, decision.note) == ("discard", "Phishing test by IT.")
    with pytest.raises(ValidationFailed):
        inbound_discard(inbound_id=quarantined.pk, actor=staff, note="")


def test_process_again_is_audited_and_a_second_click_does_nothing(
    staff, quarantined, django_capture_on_commit_callbacks
):
    client = signed_in(staff)
    url = reverse("admin:notifications_inboundmessage_changelist")
    data = {"action": "reprocess", "_selected_action": [quarantined.pk]}

    with django_capture_on_commit_callbacks():
        client.post(url, data)
        client.post(url, data)

    quarantined.refresh_from_db()
    assert quarantined.status == InboundStatus.RECEIVED
    decision = InboundDecision.objects.get()
    assert (decision.action, decision.actor) == ("reprocess", staff)


def test_a_customer_cannot_reach_the_quarantine(alice_client, quarantined):
    response = alice_client.get(
        reverse("admin:notifications_inboundmessage_release", args=[quarantined.pk])
    )

    assert response.status_code == 302  # to the admin's sign-in
    assert not Comment.objects.exists()
