"""The ESP webhooks: who may speak through them, and no payload makes a 500."""

import base64
import hashlib
import hmac
import json

import pytest
from django.contrib.auth.models import Group
from django.db import OperationalError
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from notifications.inbound import inbound_process
from notifications.models import InboundMessage, InboundStatus
from notifications.tokens import reply_address
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.factories import StaffFactory, TicketFactory
from tests.notifications.builders import raw_email
from tickets.models import Comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(alice):
    return TicketFactory(organization=alice.organization, requester=alice.user)


def post(path: str, body: bytes | str, auth: str | None, **extra) -> object:
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    return Client().post(
        path,
        body,
        content_type=extra.pop("content_type", "application/json"),
        **{
            **headers,
            **extra,
        },
    )


def postmark(raw: bytes, *, return_path: str | None = None) -> str:
    headers = (
        [{"Name": "Return-Path", "Value": f"<{return_path}>"}] if return_path else []
    )
    return json.dumps({"RawEmail": raw.decode(), "Headers": headers, "MessageID": "1"})


def processed(response) -> InboundMessage:
    assert response.status_code == 200, response.content
    message = InboundMessage.objects.latest("pk")
    inbound_process(inbound_id=message.pk)
    message.refresh_from_db()
    return message


# --- who may speak through a webhook ----------------------------------------------


def test_a_customers_tokened_reply_needs_no_envelope(webhook_auth, alice, ticket):
    """As today: the signed token is the evidence (the ingest benchmark's path)."""
    address = reply_address(ticket_number=ticket.number, user_id=alice.user.pk)
    raw = raw_email(sender=alice.user.email, to=address, body="Works now.")

    message = processed(post("/anymail/postmark/inbound/", postmark(raw), webhook_auth))

    assert message.status == InboundStatus.PROCESSED
    assert ticket.comments.get().body == "Works now."


def test_staff_through_an_esp_without_sender_evidence_are_not_trusted(
    webhook_auth, ticket
):
    engineer = StaffFactory()
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    address = reply_address(ticket_number=ticket.number, user_id=engineer.pk)
    raw = raw_email(sender=engineer.email, to=address, body="Closing this.")

    message = processed(post("/anymail/postmark/inbound/", postmark(raw), webhook_auth))

    assert message.reason_code == "sender_unverified"
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("return_path", "outcome", "code"),
    [
        (None, InboundStatus.QUARANTINED, "sender_unverified"),
        ("attacker@evil.example.net", InboundStatus.QUARANTINED, "envelope_mismatch"),
        ("alice@acme.example.com", InboundStatus.PROCESSED, ""),
    ],
    ids=["no evidence", "another sender", "the sender"],
)
def test_the_subject_tag_needs_the_esps_envelope_sender_to_agree(
    webhook_auth, settings, alice, ticket, return_path, outcome, code
):
    alice.user.email = "alice@acme.example.com"
    alice.user.save(update_fields=["email"])
    raw = raw_email(sender=alice.user.email, subject=f"Re: [#{ticket.number}] hi")

    message = processed(
        post(
            "/anymail/postmark/inbound/",
            postmark(raw, return_path=return_path),
            webhook_auth,
        )
    )

    assert (message.status, message.reason_code) == (outcome, code)


def ses_notification(raw: bytes, *, source: str, dmarc: str) -> dict:
    event = {
        "notificationType": "Received",
        "mail": {"source": source, "messageId": "ses-1"},
        "receipt": {
            "recipients": ["support@support.example.com"],
            "action": {"type": "SNS", "encoding": "BASE64"},
            "spfVerdict": {"status": "PASS"},
            "dmarcVerdict": {"status": dmarc},
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
        "body": json.dumps(notification),
        "content_type": "text/plain; charset=UTF-8",
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": "sns-1",
    }


@pytest.mark.parametrize(
    ("dmarc", "code"), [("FAIL", "dmarc_fail"), ("PASS", ""), ("GRAY", "")]
)
def test_amazon_ses_own_dmarc_verdict_is_heeded(
    webhook_auth, alice, ticket, dmarc, code
):
    raw = raw_email(sender=alice.user.email, subject=f"Re: [#{ticket.number}] hi")
    payload = ses_notification(raw, source=alice.user.email, dmarc=dmarc)

    message = processed(
        post(
            "/anymail/amazon_ses/inbound/", payload.pop("body"), webhook_auth, **payload
        )
    )

    assert message.authentication["dmarc"] == dmarc.lower()
    assert message.reason_code == code


def test_a_nul_in_the_esps_envelope_fields_is_stored_cleaned(webhook_auth, alice):
    body = json.dumps(
        {
            "RawEmail": raw_email(sender=alice.user.email).decode(),
            "Headers": [{"Name": "Return-Path", "Value": "<a\u0000@example.com>"}],
            "OriginalRecipient": "support\u0000@support.example.com",
        }
    )

    response = post("/anymail/postmark/inbound/", body, webhook_auth)

    assert response.status_code == 200
    stored = InboundMessage.objects.get()
    assert stored.envelope_from == "a@example.com"
    assert stored.envelope_to == ["support@support.example.com"]


# --- nothing a careless or hostile client posts is a 500 ------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[1,2,3]",
        b'{"FromFull":5}',
        b'{"Headers":"notalist"}',
        b'{"RawEmail":5}',
        b'{"RawEmail":"\\ud800"}',
        b'{"TextBody":"x","Attachments":[{"Name":"a","ContentType":"text/plain",'
        b'"Content":"not base64!"}]}',
        b'{"RawEmail":"\xff\xfe"}',
        b"\xff\xfe\x00",
        b"null",
        b'"a string"',
    ],
)
def test_a_malformed_postmark_payload_is_a_4xx_json_error(webhook_auth, body):
    response = post("/anymail/postmark/inbound/", body, webhook_auth)

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("auth", "status"),
    [(None, 401), ("Basic " + base64.b64encode(b"inbound:wrong").decode(), 403)],
    ids=["missing", "wrong"],
)
@pytest.mark.parametrize("esp", ["postmark", "mailgun", "sendgrid", "amazon_ses"])
def test_missing_or_wrong_credentials_are_401_or_403_json(
    webhook_auth, settings, esp, auth, status
):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": "key"}
    response = post(f"/anymail/{esp}/inbound/", b'{"RawEmail": "x"}', auth)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Basic")
    assert not InboundMessage.objects.exists()


POSTMARK_KEYS = [
    "RawEmail",
    "Headers",
    "FromFull",
    "ToFull",
    "CcFull",
    "BccFull",
    "Subject",
    "TextBody",
    "HtmlBody",
    "Attachments",
    "OriginalRecipient",
    "Date",
    "ReplyTo",
    "MessageID",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
postmark_payloads = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(POSTMARK_KEYS), json_values, max_size=6),
)


@hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payload=postmark_payloads)
def test_no_generated_json_payload_makes_the_webhook_fail(webhook_auth, payload):
    response = post("/anymail/postmark/inbound/", json.dumps(payload), webhook_auth)

    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response.json()["detail"]


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "email",
                "envelope",
                "SPF",
                "dkim",
                "headers",
                "from",
                "to",
                "text",
                "subject",
            ]
        ),
        st.text(max_size=40),
        max_size=5,
    )
)
def test_no_generated_sendgrid_form_makes_the_webhook_fail(webhook_auth, fields):
    response = Client().post(
        "/anymail/sendgrid/inbound/", fields, HTTP_AUTHORIZATION=webhook_auth
    )

    assert response.status_code < 500, response.content


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (OperationalError("the database went away"), 503, "service_unavailable"),
        (RuntimeError("a receiver failed after storing"), 500, "server_error"),
    ],
)
def test_a_failure_while_storing_asks_the_esp_to_retry(
    webhook_auth, alice, monkeypatch, error, status, code
):
    """Not a 4xx: the payload was fine, and the ESP's retry will be stored."""

    def fail(**kwargs):
        raise error

    monkeypatch.setattr("notifications.signals.inbound_store", fail)
    client = Client(raise_request_exception=False)

    response = client.post(
        "/anymail/postmark/inbound/",
        postmark(raw_email(sender=alice.user.email)),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth,
    )

    assert response.status_code == status
    assert response.json()["code"] == code


MAILGUN_KEY = "mailgun-signing-key"
MAILGUN_FIELDS = [
    "body-mime",
    "sender",
    "recipient",
    "from",
    "subject",
    "body-plain",
    "message-headers",
    "attachment-count",
    "attachment-1",
    "X-Mailgun-Spf",
]


def mailgun_signed(fields: dict[str, str]) -> dict[str, str]:
    timestamp, token = "1798761600", "mailgun-token-1"
    signature = hmac.new(
        MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


@hypothesis_settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(MAILGUN_FIELDS), st.text(max_size=60), max_size=6
    )
)
def test_no_generated_mailgun_form_makes_the_webhook_fail(
    webhook_auth, settings, fields
):
    """Signed correctly, so the fields themselves are what is tried."""
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}

    response = Client().post(
        "/anymail/mailgun/inbound/",
        mailgun_signed(fields),
        HTTP_AUTHORIZATION=webhook_auth,
    )

    assert response.status_code < 500, response.content
