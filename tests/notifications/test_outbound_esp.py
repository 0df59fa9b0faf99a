"""Outgoing mail through an ESP's API (anymail), as ``EMAIL_URL=anymail://postmark``.

A loopback stub plays Postmark's API: it records each request and answers as
Postmark does, so the test sees what the ESP would receive.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from notifications import services
from notifications.models import DeliveryStatus, EmailDelivery, FailingAddress
from notifications.tokens import token_from_address
from tests.notifications.builders import solved_mail
from tests.processes import run_python


class _Postmark(BaseHTTPRequestHandler):
    """Postmark's ``POST /email``: answers with the status the test queued."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(  # type: ignore[attr-defined]
            (self.path, dict(self.headers), json.loads(body))
        )
        status = self.server.statuses.pop(0) if self.server.statuses else 200  # type: ignore[attr-defined]
        sent = json.loads(body)
        answer = (
            {
                "To": sent["To"],
                "SubmittedAt": "2026-11-27T09:00:00Z",
                "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
                "ErrorCode": 0,
                "Message": "OK",
            }
            if status == 200
            # 300: Postmark's "invalid email request", which no retry can fix.
            else {"ErrorCode": 300 if status == 422 else 0, "Message": "refused"}
        )
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def postmark(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Postmark)
    server.requests, server.statuses = [], []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_SERVER_TOKEN": "server-token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{server.server_port}/",
    }
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_a_notification_goes_out_through_the_esp_api_with_its_headers(postmark, alice):
    key = solved_mail(alice, "ticket-solved-esp").event_key

    assert services.deliveries_send_for_event(event_key=key) == 1

    [(path, headers, sent)] = postmark.requests
    delivery = EmailDelivery.objects.get(event_key=key)
    assert path == "/email"
    assert headers["X-Postmark-Server-Token"] == "server-token"
    assert sent["To"] == alice.user.email
    assert sent["From"].endswith("<support@support.example.com>")
    assert token_from_address(sent["ReplyTo"]) is not None
    extra = {header["Name"]: header["Value"] for header in sent["Headers"]}
    assert extra["Message-ID"] == delivery.message_id
    assert extra["Auto-Submitted"] == "auto-generated"
    assert extra["X-Auto-Response-Suppress"] == "All"
    assert "[#" in sent["Subject"]
    assert sent["TextBody"]
    assert sent["HtmlBody"]
    assert delivery.status == DeliveryStatus.SENT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (500, DeliveryStatus.PENDING),
        (429, DeliveryStatus.PENDING),
        (422, DeliveryStatus.FAILED),
    ],
)
def test_the_esp_refusing_retries_only_what_may_pass_later(
    postmark, alice, status, outcome
):
    """A 5xx or 429 is retried with backoff; a 422 (a request it refuses) is final."""
    key = solved_mail(alice, "ticket-solved-esp").event_key
    postmark.statuses.append(status)

    assert services.deliveries_send_for_event(event_key=key) == 0

    delivery = EmailDelivery.objects.get(event_key=key)
    assert delivery.status == outcome
    assert delivery.last_error


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("anymail://postmark", "anymail.backends.postmark.EmailBackend"),
        ("anymail://amazon_ses", "anymail.backends.amazon_ses.EmailBackend"),
        ("smtp://mail.example.com:25", "django.core.mail.backends.smtp.EmailBackend"),
        ("anymail://postmrak", "ImproperlyConfigured"),
    ],
)
def test_email_url_names_the_backend(url, backend):
    script = (
        "import django\n"
        "try:\n"
        "    django.setup()\n"
        "    from django.conf import settings\n"
        "    print(settings.EMAIL_BACKEND)\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    result = run_python(
        script,
        {"DJANGO_SETTINGS_MODULE": "scalr_support.settings.local", "EMAIL_URL": url},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == backend


def _postmark_event(address: str, **fields: object) -> dict:
    return {
        "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
        "Email": address,
        "Recipient": address,
        "BouncedAt": "2026-11-27T09:00:00Z",
        "DeliveredAt": "2026-11-27T09:00:00Z",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account does not exist.",
        "Metadata": {},
        **fields,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event", "marked"),
    [
        ({"RecordType": "Bounce", "Type": "HardBounce", "TypeCode": 1}, True),
        ({"RecordType": "SpamComplaint", "Type": "SpamComplaint"}, True),
        ({"RecordType": "Bounce", "Type": "BadEmailAddress"}, True),
        ({"RecordType": "Bounce", "Type": "Transient", "TypeCode": 2}, False),
        ({"RecordType": "Delivery"}, False),
    ],
)
def test_an_esp_bounce_report_stops_mail_to_the_address(
    postmark, webhook_auth, alice, event, marked
):
    """With an ESP, bounces come back as its delivery events, not as DSN emails."""
    response = Client().post(
        "/anymail/postmark/tracking/",
        json.dumps(_postmark_event(address=alice.user.email.upper(), **event)),
        content_type="application/json",
        HTTP_AUTHORIZATION=webhook_auth,
    )
    key = solved_mail(alice, "ticket-solved-esp").event_key
    services.deliveries_send_for_event(event_key=key)

    assert response.status_code == 200
    failing = FailingAddress.objects.filter(address=alice.user.email).first()
    assert (failing is not None) == marked
    if marked:
        assert failing.reason.startswith("Postmark: ")
    delivery = EmailDelivery.objects.get(event_key=key)
    if marked:
        assert delivery.status == DeliveryStatus.SUPPRESSED
        assert postmark.requests == []
    else:
        assert delivery.status == DeliveryStatus.SENT
