"""Both ways in: the SMTP receiver and the ESP webhooks store before they answer."""

import base64
import hashlib
import hmac
import json
import smtplib
import threading
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.test import Client

from notifications.inbound import inbound_process
from notifications.management.commands.receive_mail import StoreHandler
from notifications.models import InboundMessage, InboundStatus
from notifications.parsing import parse_message
from notifications.tokens import reply_address
from scalr_support.celery import app
from tests.factories import ContactFactory, TicketFactory
from tests.notifications.builders import (
    contact_reply,
    free_port,
    quoted_reply,
    raw_email,
    run_together,
)
from tickets import services as ticket_services
from tickets.choices import CommentSource
from tickets.models import Comment

MAILGUN_SIGNING_KEY = "mailgun-signing-key"


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
        # On the wire lines end in CRLF (smtplib converts only str messages); with
        # bare LFs the receiver reads the whole message as one over-long line.
        wire = reply.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        with smtplib.SMTP("127.0.0.1", smtp_server) as client:
            refused = client.sendmail(
                contact.user.email, [notification.reply_to[0]], wire
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


@pytest.mark.django_db(transaction=True)
def test_one_webhook_delivered_twice_concurrently_makes_one_comment(
    live_server, webhook_auth
):
    """ESPs retry; two copies racing over real HTTP are both kept, one comment made."""
    ticket, raw = contact_reply(
        message_id="<webhook.twice@customer.example.com>",
        body="Sent once, delivered twice.",
    )
    server = urlsplit(live_server.url)
    body = postmark_payload(raw).encode()
    headers = {"Content-Type": "application/json", "Authorization": webhook_auth}

    def deliver():
        client = HTTPConnection(server.hostname, server.port, timeout=30)
        try:
            client.request("POST", "/anymail/postmark/inbound/", body, headers)
            return client.getresponse().status
        finally:
            client.close()

    answers = run_together(deliver, [(), ()])
    stored = list(InboundMessage.objects.values_list("pk", flat=True))
    outcomes = run_together(
        lambda pk: inbound_process(inbound_id=pk), [(pk,) for pk in stored]
    )

    assert answers == [200, 200]
    assert len(stored) == 2  # both copies kept: nothing is dropped before processing
    assert sorted(outcomes) == [InboundStatus.IGNORED, InboundStatus.PROCESSED]
    assert list(
        Comment.objects.filter(ticket=ticket).values_list("body", flat=True)
    ) == ["Sent once, delivered twice."]


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


# --- each ESP's payload carrying the raw message -------------------------------------


def _postmark(raw: bytes, sender: str, recipient: str) -> dict:
    payload = {
        "RawEmail": raw.decode(),
        "Headers": [{"Name": "Return-Path", "Value": f"<{sender}>"}],
        "OriginalRecipient": recipient,
        "MessageID": "pm-1",
    }
    return {"data": json.dumps(payload), "content_type": "application/json"}


def _mailgun(raw: bytes, sender: str, recipient: str) -> dict:
    timestamp, token = "1798761600", "mailgun-token-1"
    signature = hmac.new(
        MAILGUN_SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    fields = {
        "body-mime": raw.decode(),
        "sender": sender,
        "recipient": recipient,
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
    }
    return {"data": fields}


def _sendgrid(raw: bytes, sender: str, recipient: str) -> dict:
    envelope = json.dumps({"from": sender, "to": [recipient]})
    return {"data": {"email": raw.decode(), "envelope": envelope}}


def _amazon_ses(raw: bytes, sender: str, recipient: str) -> dict:
    event = {
        "notificationType": "Received",
        "mail": {"source": sender, "messageId": "ses-1"},
        "receipt": {
            "recipients": [recipient],
            "action": {"type": "SNS", "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode(),
    }
    notification = {
        "Type": "Notification",
        "MessageId": "sns-1",
        "TopicArn": "arn:aws:sns:eu-west-1:111122223333:inbound",
        "Message": json.dumps(event),
    }
    return {
        "data": json.dumps(notification),
        "content_type": "text/plain; charset=UTF-8",
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": "sns-1",
    }


@pytest.mark.parametrize(
    ("esp", "payload"),
    [
        ("postmark", _postmark),
        ("mailgun", _mailgun),
        ("sendgrid", _sendgrid),
        ("amazon_ses", _amazon_ses),
    ],
)
def test_each_esp_webhook_stores_the_message_byte_for_byte(
    esp, payload, webhook_auth, settings, alice
):
    """What the ESP relayed is stored, not anymail's re-serialised copy.

    The message has CRLF line endings and a tab-folded header, both of which a
    re-serialised copy would change, and the reply is then processed from what
    was stored.
    """
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_SIGNING_KEY,
    }
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    address = reply_address(ticket_number=ticket.number, user_id=alice.user.pk)
    raw = raw_email(
        sender=alice.user.email, to=address, body="Logs attached below."
    ).replace(b"\n", b"\r\n")
    raw = raw.replace(b"Subject: Re:", b"Subject:\r\n\tRe:", 1)

    response = Client().post(
        f"/anymail/{esp}/inbound/",
        HTTP_AUTHORIZATION=webhook_auth,
        **payload(raw, alice.user.email, address),
    )

    assert response.status_code == 200, response.content
    stored = InboundMessage.objects.get()
    assert bytes(stored.raw) == raw
    assert stored.envelope_from == alice.user.email
    assert stored.envelope_to == [address]
    assert inbound_process(inbound_id=stored.pk) == InboundStatus.PROCESSED
    assert Comment.objects.get(ticket=ticket, source=CommentSource.EMAIL).body == (
        "Logs attached below."
    )


@pytest.mark.django_db
def test_a_webhook_without_the_raw_message_stores_anymails_copy(webhook_auth, alice):
    """Postmark's parsed-only format: the re-serialised message is all there is."""
    payload = {
        "From": alice.user.email,
        "FromFull": {"Email": alice.user.email, "Name": ""},
        "To": "support@support.example.com",
        "ToFull": [{"Email": "support@support.example.com", "Name": ""}],
        "Subject": "Re: [#1] Runs stuck",
        "MessageID": "pm-2",
        "TextBody": "Parsed fields only.",
        "Headers": [],
    }

    response = Client().post(
        "/anymail/postmark/inbound/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth,
    )

    assert response.status_code == 200
    stored = parse_message(bytes(InboundMessage.objects.get().raw))
    assert stored.from_address == alice.user.email
    assert stored.reply_text == "Parsed fields only."
