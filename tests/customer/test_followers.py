"""Colleagues copied on a ticket: who may add them, what they get, who never is."""

import pytest
from django.core import mail

from notifications import services as notification_services
from notifications.inbound import inbound_process, inbound_store
from notifications.tokens import reply_address
from tests.factories import ContactFactory, TicketFactory
from tests.notifications.builders import raw_email
from tickets import followers, services
from tickets.choices import Status
from tickets.customer_models import TicketFollower

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(alice):
    return TicketFactory(
        organization=alice.organization,
        requester=alice.user,
        status=Status.OPEN,
    )


@pytest.fixture
def quiet_bob(bob):
    """A colleague who does not take the organisation's mail."""
    bob.notify_organization_tickets = False
    bob.save(update_fields=["notify_organization_tickets"])
    return bob


def send_all(django_capture_on_commit_callbacks, action):
    with django_capture_on_commit_callbacks(execute=True):
        result = action()
    for delivery_id in notification_services.deliveries_sweep():
        notification_services.delivery_send(delivery_id=delivery_id)
    return result


def test_requester_copies_a_colleague_from_the_ticket_page(
    alice_client, ticket, quiet_bob, django_capture_on_commit_callbacks
):
    page = alice_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Copy a colleague" in page
    assert "bob@acme.example.com" in page

    send_all(
        django_capture_on_commit_callbacks,
        lambda: alice_client.post(
            f"/tickets/{ticket.number}/followers/", {"email": "bob@acme.example.com"}
        ),
    )
    assert TicketFollower.objects.filter(ticket=ticket, user=quiet_bob.user).exists()
    (message,) = mail.outbox
    assert message.to == ["bob@acme.example.com"]
    assert "copied you" in message.body
    page = alice_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Copied colleagues" in page
    assert quiet_bob.user.display_name in page


def test_followers_get_replies_and_may_answer_by_email(
    alice, ticket, quiet_bob, engineer, django_capture_on_commit_callbacks
):
    send_all(
        django_capture_on_commit_callbacks,
        lambda: followers.follower_add(
            ticket=ticket, actor=alice.user, email=quiet_bob.user.email
        ),
    )
    mail.outbox.clear()
    send_all(
        django_capture_on_commit_callbacks,
        lambda: services.comment_create(
            ticket=ticket, author=engineer, body="Please restart the agent."
        ),
    )
    assert sorted(m.to[0] for m in mail.outbox) == [
        "alice@acme.example.com",
        "bob@acme.example.com",
    ]
    message = inbound_store(
        raw=raw_email(
            sender=quiet_bob.user.email,
            to=reply_address(ticket_number=ticket.number, user_id=quiet_bob.user.pk),
            body="Restarted it, works now.",
        ),
        transport="test",
    )
    inbound_process(inbound_id=message.pk)
    assert ticket.comments.filter(author=quiet_bob.user).exists()


def test_only_colleagues_of_the_organisation_can_be_copied(alice, ticket, gina):
    with pytest.raises(services.ValidationFailed):
        followers.follower_add(ticket=ticket, actor=alice.user, email=gina.user.email)
    with pytest.raises(services.ValidationFailed):
        followers.follower_add(
            ticket=ticket, actor=alice.user, email="stranger@elsewhere.example.com"
        )
    assert not TicketFollower.objects.exists()


def test_a_colleague_who_is_not_the_requester_cannot_copy_others(
    bob_client, ticket, alice
):
    carol = ContactFactory(organization=alice.organization)
    bob_client.post(f"/tickets/{ticket.number}/followers/", {"email": carol.user.email})
    assert not TicketFollower.objects.exists()


def test_another_organisation_cannot_copy_onto_the_ticket(gina_client, ticket, bob):
    response = gina_client.post(
        f"/tickets/{ticket.number}/followers/", {"email": bob.user.email}
    )
    assert response.status_code == 404
    assert not TicketFollower.objects.exists()


def test_a_follower_may_leave(bob_client, alice, ticket, bob):
    followers.follower_add(ticket=ticket, actor=alice.user, email=bob.user.email)
    bob_client.post(f"/tickets/{ticket.number}/followers/{bob.user.pk}/remove/")
    assert not TicketFollower.objects.exists()


def test_colleagues_on_cc_of_an_email_follow_and_outsiders_do_not(
    alice, ticket, quiet_bob, gina
):
    message = inbound_store(
        raw=raw_email(
            sender=alice.user.email,
            to=reply_address(ticket_number=ticket.number, user_id=alice.user.pk),
            body="Copying Bob, who runs the agents.",
            headers={
                "Cc": f"{quiet_bob.user.email}, {gina.user.email}, "
                "outsider@elsewhere.example.com"
            },
        ),
        transport="test",
    )
    inbound_process(inbound_id=message.pk)
    assert ticket.comments.filter(author=alice.user).exists()
    assert list(
        TicketFollower.objects.filter(ticket=ticket).values_list(
            "user__email", flat=True
        )
    ) == ["bob@acme.example.com"]


def test_mail_queued_before_a_deactivation_is_not_sent(
    alice, ticket, quiet_bob, engineer, django_capture_on_commit_callbacks
):
    from notifications.models import DeliveryStatus, EmailDelivery

    followers.follower_add(ticket=ticket, actor=alice.user, email=quiet_bob.user.email)
    quiet_bob.user.is_active = False
    quiet_bob.user.save(update_fields=["is_active"])
    send_all(django_capture_on_commit_callbacks, lambda: None)
    assert mail.outbox == []
    delivery = EmailDelivery.objects.get(recipient=quiet_bob.user)
    assert delivery.status == DeliveryStatus.SUPPRESSED


def test_an_inactive_follower_is_not_mailed(
    alice, ticket, quiet_bob, engineer, django_capture_on_commit_callbacks
):
    send_all(
        django_capture_on_commit_callbacks,
        lambda: followers.follower_add(
            ticket=ticket, actor=alice.user, email=quiet_bob.user.email
        ),
    )
    quiet_bob.user.is_active = False
    quiet_bob.user.save(update_fields=["is_active"])
    mail.outbox.clear()
    send_all(
        django_capture_on_commit_callbacks,
        lambda: services.comment_create(ticket=ticket, author=engineer, body="Hi"),
    )
    assert [m.to[0] for m in mail.outbox] == ["alice@acme.example.com"]


def test_colleagues_on_cc_of_a_new_ticket_email_follow_it(alice, quiet_bob):
    message = inbound_store(
        raw=raw_email(
            sender=alice.user.email,
            subject="Agent pool offline",
            body="All agents are down.",
            headers={"Cc": quiet_bob.user.email},
        ),
        transport="test",
        envelope_from=alice.user.email,
    )
    inbound_process(inbound_id=message.pk)
    ticket = alice.organization.tickets.get()
    assert list(ticket.followers.values_list("user__email", flat=True)) == [
        "bob@acme.example.com"
    ]
