"""Outgoing notifications: who gets mail, what it says, and that it is sent once."""

import smtplib
from datetime import timedelta
from email.utils import parseaddr

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from notifications import services, tasks
from notifications.models import DeliveryStatus, EmailDelivery, Event, FailingAddress
from notifications.parsing.reply import REPLY_MARKER
from notifications.tokens import reply_token_read, token_from_address
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.factories import ContactFactory, StaffFactory, TicketFactory
from tests.notifications.builders import solved_mail
from tickets import services as ticket_services
from tickets.choices import Priority, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_engineer(db):
    user = StaffFactory(email="eli@support.example.com")
    user.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return user


def new_ticket(requester, **overrides):
    data = {
        "subject": "Runs stuck",
        "description": "Pending forever.",
        "priority": Priority.CRITICAL,
        "category": "bug",
        "deployment": "saas",
    }
    data.update(overrides)
    return ticket_services.ticket_create(
        requester=requester, data=ticket_services.TicketInput(**data)
    )


@pytest.fixture
def mailed_ticket(alice, django_capture_on_commit_callbacks):
    """Alice's new ticket, its "received" mail already sent and cleared."""
    ticket = send_all(
        django_capture_on_commit_callbacks, lambda: new_ticket(alice.user)
    )
    mail.outbox.clear()
    return ticket


def send_all(django_capture_on_commit_callbacks, action):
    """Commit the action (its tasks go to the real broker), then do a worker's job.

    The worker's job is what the outbox sweep does: send every due delivery.
    """
    with django_capture_on_commit_callbacks(execute=True):
        result = action()
    for delivery_id in services.deliveries_sweep():
        services.delivery_send(delivery_id=delivery_id)
    return result


def recipients(messages):
    return sorted(address for message in messages for address in message.to)


def test_new_ticket_mails_requester_opted_in_contacts_and_support(
    alice, bob, gina, support_engineer, django_capture_on_commit_callbacks
):
    quiet = ContactFactory(
        organization=alice.organization, notify_organization_tickets=False
    )

    send_all(django_capture_on_commit_callbacks, lambda: new_ticket(alice.user))

    assert recipients(mail.outbox) == sorted(
        [alice.user.email, bob.user.email, support_engineer.email]
    )
    assert quiet.user.email not in recipients(mail.outbox)
    assert gina.user.email not in recipients(mail.outbox)


def test_contact_who_opted_out_still_hears_about_own_tickets(
    alice, django_capture_on_commit_callbacks
):
    alice.notify_organization_tickets = False
    alice.save(update_fields=["notify_organization_tickets"])

    send_all(django_capture_on_commit_callbacks, lambda: new_ticket(alice.user))

    assert alice.user.email in recipients(mail.outbox)


def test_support_reply_mail_has_threading_and_reply_headers(
    alice, support_engineer, django_capture_on_commit_callbacks, settings, mailed_ticket
):
    ticket = mailed_ticket

    comment = send_all(
        django_capture_on_commit_callbacks,
        lambda: ticket_services.comment_create(
            ticket=ticket, author=support_engineer, body="Please restart the **agent**."
        ),
    )

    [message] = [m for m in mail.outbox if alice.user.email in m.to]
    assert f"[#{ticket.number}]" in message.subject
    assert (
        parseaddr(message.from_email)[1] == f"support@{settings.SUPPORT_EMAIL_DOMAIN}"
    )
    token = token_from_address(message.reply_to[0])
    found = reply_token_read(token or "")
    assert found is not None
    assert (found.ticket_number, found.user_id) == (ticket.number, alice.user.pk)
    assert message.extra_headers["Message-ID"].endswith(
        f"@{settings.SUPPORT_EMAIL_DOMAIN}>"
    )
    assert (
        message.extra_headers["In-Reply-To"]
        == f"<ticket-{ticket.number}@{settings.SUPPORT_EMAIL_DOMAIN}>"
    )
    assert message.extra_headers["References"] == message.extra_headers["In-Reply-To"]
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert message.extra_headers["X-Auto-Response-Suppress"] == "All"
    assert REPLY_MARKER in message.body
    assert "Please restart the **agent**." in message.body
    assert f"/tickets/{ticket.number}/" in message.body
    html = message.alternatives[0][0]
    assert "<strong>agent</strong>" in html
    delivery = EmailDelivery.objects.get(
        event_key=f"comment:{comment.pk}", recipient=alice.user
    )
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.message_id == message.extra_headers["Message-ID"]


def test_internal_notes_never_mail_customers(
    alice, support_engineer, django_capture_on_commit_callbacks, mailed_ticket
):
    ticket = mailed_ticket

    send_all(
        django_capture_on_commit_callbacks,
        lambda: ticket_services.comment_create(
            ticket=ticket,
            author=support_engineer,
            body="CANARY-note-93",
            is_public=False,
        ),
    )

    assert mail.outbox == []
    assert not EmailDelivery.objects.filter(event_key__startswith="comment:").exists()


def test_customer_reply_mails_the_assignee(
    alice, support_engineer, django_capture_on_commit_callbacks
):
    ticket = send_all(
        django_capture_on_commit_callbacks, lambda: new_ticket(alice.user)
    )
    ticket_services.ticket_assign(
        ticket=ticket, actor=support_engineer, assignee=support_engineer
    )
    mail.outbox.clear()

    send_all(
        django_capture_on_commit_callbacks,
        lambda: ticket_services.comment_create(
            ticket=ticket, author=alice.user, body="Any news?"
        ),
    )

    assert support_engineer.email in recipients(mail.outbox)
    assert alice.user.email not in recipients(mail.outbox)


def test_priority_change_mail_carries_the_reason(
    alice, support_engineer, django_capture_on_commit_callbacks, mailed_ticket
):
    ticket = mailed_ticket

    send_all(
        django_capture_on_commit_callbacks,
        lambda: ticket_services.ticket_priority_change(
            ticket=ticket,
            actor=support_engineer,
            priority=Priority.MINOR,
            reason="A workaround exists.",
        ),
    )

    [message] = mail.outbox
    assert message.to == [alice.user.email]
    assert "A workaround exists." in message.body
    assert "P1 Critical" in message.body
    assert "P3 Minor" in message.body


def test_solving_a_ticket_mails_the_organisation_once(
    alice, bob, django_capture_on_commit_callbacks, mailed_ticket
):
    ticket = mailed_ticket

    send_all(
        django_capture_on_commit_callbacks,
        lambda: ticket_services.ticket_status_change(
            ticket=ticket, actor=alice.user, status=Status.SOLVED
        ),
    )

    assert recipients(mail.outbox) == [bob.user.email]
    assert "Solved" in mail.outbox[0].subject


def test_event_delivered_twice_sends_one_email(alice):
    ticket = new_ticket(alice.user)
    key = f"ticket:{ticket.pk}:created"

    tasks.deliver_event.apply(args=[key])
    tasks.deliver_event.apply(args=[key])
    tasks.notifications_sweep.apply()

    assert len(mail.outbox) == 1


def test_enqueuing_the_same_event_twice_mails_once(
    alice, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)

    def enqueue():
        for _ in range(2):
            services.notification_enqueue(
                event=Event.TICKET_SOLVED,
                event_key="same-event",
                recipients=[alice.user],
                ticket=ticket,
            )

    send_all(django_capture_on_commit_callbacks, enqueue)

    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.filter(event_key="same-event").count() == 1


def test_transient_failure_is_retried_later_and_permanent_failure_is_recorded(
    alice, monkeypatch
):
    delivery = solved_mail(alice, "flaky")
    errors = [smtplib.SMTPServerDisconnected("gone"), smtplib.SMTPRecipientsRefused({})]

    def failing_send(self, messages):
        raise errors.pop(0)

    monkeypatch.setattr(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", failing_send
    )

    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at > timezone.now()
    assert "SMTPServerDisconnected" in delivery.last_error
    assert services.deliveries_sweep() == []

    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert services.deliveries_sweep(now=later) == [delivery.pk]
    EmailDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert services.delivery_send(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_broker_down_at_commit_does_not_fail_the_change_and_the_sweep_sends(
    alice, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis is down")

    monkeypatch.setattr(tasks.deliver_event, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket(alice.user)

    assert mail.outbox == []
    pending = EmailDelivery.objects.filter(ticket=ticket, status=DeliveryStatus.PENDING)
    assert pending.exists()

    for delivery_id in services.deliveries_sweep():
        services.delivery_send(delivery_id=delivery_id)
    assert alice.user.email in recipients(mail.outbox)


def test_sweep_releases_a_claim_left_by_a_dead_worker(alice):
    solved_mail(alice, "crashed")
    stale = timezone.now() - services._stale_claim() - timedelta(seconds=1)
    EmailDelivery.objects.filter(event_key="crashed").update(
        status=DeliveryStatus.SENDING, claimed_at=stale
    )

    due = services.deliveries_sweep()

    assert len(due) == 1
    assert services.delivery_send(delivery_id=due[0]) is True
    assert len(mail.outbox) == 1


def test_bouncing_address_is_suppressed(alice):
    FailingAddress.objects.create(address=alice.user.email, bounced_at=timezone.now())
    solved_mail(alice, "bouncy")

    services.deliveries_send_for_event(event_key="bouncy")

    assert mail.outbox == []
    assert (
        EmailDelivery.objects.get(event_key="bouncy").status
        == DeliveryStatus.SUPPRESSED
    )


def test_mail_escapes_user_content_in_html(
    alice, support_engineer, django_capture_on_commit_callbacks
):
    ticket = send_all(
        django_capture_on_commit_callbacks,
        lambda: new_ticket(alice.user, subject='<img src=x onerror="alert(1)">'),
    )
    mail.outbox.clear()

    send_all(
        django_capture_on_commit_callbacks,
        lambda: ticket_services.comment_create(
            ticket=ticket,
            author=support_engineer,
            body="<script>alert(2)</script>hello",
        ),
    )

    html = mail.outbox[0].alternatives[0][0]
    assert "<script" not in html
    assert "<img src=x" not in html


def test_contact_turns_organisation_mail_off_in_the_portal(
    bob, alice, django_capture_on_commit_callbacks
):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(bob.user)
    page = client.get(reverse("notification-preferences"))
    response = client.post(reverse("notification-preferences"), {})

    assert page.status_code == 200
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.notify_organization_tickets is False
    send_all(django_capture_on_commit_callbacks, lambda: new_ticket(alice.user))
    assert bob.user.email not in recipients(mail.outbox)


def test_staff_have_no_notification_preferences_page(engineer_client):
    from django.urls import reverse

    assert engineer_client.get(reverse("notification-preferences")).status_code == 404


def test_sending_a_delivery_claims_loads_checks_and_marks_it(
    alice, django_assert_num_queries
):
    """One row, its recipient and ticket in one read; a query per step, no more."""
    delivery = solved_mail(alice, "counted")

    with django_assert_num_queries(4):  # claim, load, bouncing check, mark
        assert services.delivery_send(delivery_id=delivery.pk) is True

    assert len(mail.outbox) == 1
