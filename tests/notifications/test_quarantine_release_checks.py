"""Releasing set-aside mail as an operator would misuse it, or two at once."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from notifications.inbound import inbound_process, inbound_store
from notifications.models import InboundDecision, InboundMessage, InboundStatus
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.conftest import signed_in
from tests.factories import StaffFactory, TicketFactory
from tests.notifications.builders import raw_email
from tickets.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    user = StaffFactory(email="operator@support.example.com")
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return user


@pytest.fixture
def ticket(alice):
    return TicketFactory(organization=alice.organization, requester=alice.user)


def set_aside(sender: str, ticket) -> InboundMessage:
    """A reply by subject tag through an ESP that gave no envelope sender."""
    raw = raw_email(sender=sender, subject=f"Re: [#{ticket.number}] Runs stuck")
    message = inbound_store(raw=raw, transport="webhook:postmark")
    inbound_process(inbound_id=message.pk)
    message.refresh_from_db()
    assert message.status == InboundStatus.QUARANTINED
    return message


def release(client, message, author, ticket):
    url = reverse("admin:notifications_inboundmessage_release", args=[message.pk])
    return client.post(url, {"author": author.email, "ticket_number": ticket.number})


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_customers_mail_cannot_be_released_as_an_engineers_reply(
    operator, alice, engineer, ticket
):
    message = set_aside(alice.user.email, ticket)

    response = release(signed_in(operator), message, engineer, ticket)

    assert response.status_code == 200
    assert (
        f"{engineer.email} is support staff and did not send this message "
        f"(it is from {alice.user.email}): choose a customer contact."
    ) in response.text
    assert not Comment.objects.exists()
    assert not InboundDecision.objects.exists()


def test_an_engineers_own_tokenless_reply_can_be_released_as_them(
    operator, engineer, ticket
):
    message = set_aside(engineer.email, ticket)

    response = release(signed_in(operator), message, engineer, ticket)

    assert response.status_code == 302
    assert Comment.objects.get().author == engineer


def test_a_second_operator_is_told_it_was_released_already(
    operator, alice, bob, ticket
):
    message = set_aside(alice.user.email, ticket)
    other = StaffFactory()
    other.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))

    first = release(signed_in(operator), message, alice.user, ticket)
    second = release(signed_in(other), message, bob.user, ticket)

    assert said(first) == [f"Released onto ticket #{ticket.number}."]
    assert said(second) == [
        f"Nothing changed: {operator.email} already released this message as "
        f"{alice.user.email} onto ticket #{ticket.number}."
    ]
    assert Comment.objects.get().author == alice.user
    assert InboundDecision.objects.count() == 1


def test_process_again_on_a_processed_message_does_not_claim_success(
    operator, alice, ticket
):
    message = set_aside(alice.user.email, ticket)
    client = signed_in(operator)
    release(client, message, alice.user, ticket)

    response = client.post(
        reverse("admin:notifications_inboundmessage_changelist"),
        {"action": "reprocess", "_selected_action": [message.pk]},
    )

    assert said(response)[-1] == (
        "None of the selected messages was set aside; nothing was queued."
    )
    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED


def test_a_deactivated_contact_or_an_absurd_ticket_number_is_a_form_error(
    operator, alice, bob, ticket
):
    message = set_aside(alice.user.email, ticket)
    url = reverse("admin:notifications_inboundmessage_release", args=[message.pk])
    client = signed_in(operator)
    type(alice.user).objects.filter(pk=alice.user.pk).update(is_active=False)

    inactive = client.post(url, {"author": alice.user.email})
    absurd = client.post(url, {"author": bob.user.email, "ticket_number": 10**30})

    assert inactive.status_code == absurd.status_code == 200
    assert "No active account has that address." in inactive.text
    assert f"{bob.user.email} cannot see ticket #{10**30}." in absurd.text
    assert not Comment.objects.exists()


def test_a_second_discard_keeps_the_first_reason_and_says_so(operator, alice, ticket):
    message = set_aside(alice.user.email, ticket)
    url = reverse("admin:notifications_inboundmessage_discard", args=[message.pk])
    other = StaffFactory()
    other.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))

    first = signed_in(operator).post(url, {"note": "Phishing test"})
    second = signed_in(other).post(url, {"note": "Spam"})

    assert said(first) == ["Message discarded."]
    assert said(second) == [
        f"Nothing changed: {operator.email} already discarded this message: "
        "Phishing test"
    ]
    assert InboundDecision.objects.get().note == "Phishing test"
