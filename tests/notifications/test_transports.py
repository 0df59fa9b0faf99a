"""Both ways in: the SMTP receiver and the ESP webhooks store before they answer."""

import base64
import json
import smtplib
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client

from notifications.management.commands.receive_mail import StoreHandler
from notifications.models import InboundMessage, InboundStatus
from notifications.tokens import reply_address
from scalr_support.celery import app
from tests.factories import ContactFactory, TicketFactory
from tests.notifications.builders import quoted_reply, raw_email
from tickets import services as ticket_services
from tickets.models import Comment

WEBHOOK_SECRET = "inbound:s3cret-webhook-pass"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    port = free_port()
    controller = Controller(
        StoreHandler(),
        hostname="127.0.0.1",
        port=port,
        data_size_limit=settings.INBOUND_EMAIL_MAX_BYTES,
    )
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def webhook_auth(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    return "Basic " + base64.b64encode(WEBHOOK_SECRET.encode()).decode()


def postmark_payload(raw: bytes) -> str:
    return json.dumps({"RawEmail": raw.decode(), "Headers": [], "MessageID": "pm-1"})


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_reply_through_smtp_becomes_a_stripped_comment_end_to_end(smtp_server):
    """Create a ticket, answer its notification through the real SMTP receiver."""
    contact = ContactFactory(user__email="alice@acme.example.com")
    app.control.purge()
    ticket = ticket_services.ticket_create(
        requester=contact.user,
        data=ticket_services.TicketInput(
            "Runs stuck", "Pending forever.", 1, "bug", "saas"
        ),
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        [notification] = _wait_for(
            lambda: [m for m in mail.outbox if contact.user.email in m.to]
        )
        reply = raw_email(
            sender=contact.user.email,
            to=notification.reply_to[0],
            subject="Re: " + notification.subject,
            body=quoted_reply("Thanks, restarting fixed it.", notification.body),
            in_reply_to=notification.extra_headers["Message-ID"],
        )
        with smtplib.SMTP("127.0.0.1", smtp_server) as client:
            refused = client.sendmail(
                contact.user.email, [notification.reply_to[0]], reply
            )
        assert refused == {}
        [comment] = _wait_for(lambda: list(Comment.objects.filter(ticket=ticket)))

    assert comment.body == "Thanks, restarting fixed it."
    assert comment.author == contact.user


def _wait_for(probe, timeout: float = 20.0):
    event = threading.Event()
    for _ in range(int(timeout / 0.1)):
        found = probe()
        if found:
            return found
        event.wait(0.1)
    raise AssertionError("timed out waiting")


@pytest.mark.django_db(transaction=True)
def test_smtp_answers_250_only_after_storing(smtp_server):
    with smtplib.SMTP("127.0.0.1", smtp_server) as client:
        _code, _text = client.docmd("NOOP")
        client.sendmail(
            "a@example.com",
            ["support@support.example.com"],
            raw_email(sender="a@example.com"),
        )

    assert InboundMessage.objects.count() == 1
    assert InboundMessage.objects.get().envelope_from == "a@example.com"


@pytest.mark.django_db(transaction=True)
def test_smtp_refuses_oversize_mail_with_552(settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 2000
    port = free_port()
    controller = Controller(
        StoreHandler(), hostname="127.0.0.1", port=port, data_size_limit=2000
    )
    controller.start()
    try:
        with (
            smtplib.SMTP("127.0.0.1", port) as client,
            pytest.raises(smtplib.SMTPResponseException) as refused,
        ):
            client.sendmail(
                "a@example.com",
                ["support@support.example.com"],
                raw_email(sender="a@example.com", body="x" * 5000),
            )
    finally:
        controller.stop()

    assert refused.value.smtp_code == 552
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_webhook_stores_the_message_and_answers_2xx(webhook_auth, alice):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    raw = raw_email(
        sender=alice.user.email,
        to=reply_address(ticket_number=ticket.number, user_id=alice.user.pk),
    )

    response = Client().post(
        "/anymail/postmark/inbound/",
        postmark_payload(raw),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth,
    )

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.transport == "webhook:postmark"
    assert stored.status == InboundStatus.RECEIVED


@pytest.mark.django_db
def test_webhook_without_auth_is_refused_and_stores_nothing(webhook_auth):
    response = Client().post(
        "/anymail/postmark/inbound/",
        postmark_payload(raw_email(sender="a@example.com")),
        content_type="application/json",
    )

    assert response.status_code in (400, 401, 403)
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_webhook_refuses_oversize_body_with_413(webhook_auth, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1000

    response = Client().post(
        "/anymail/postmark/inbound/",
        postmark_payload(raw_email(sender="a@example.com", body="x" * 5000)),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth,
    )

    assert response.status_code == 413
    assert not InboundMessage.objects.exists()
