"""JSON log lines that say which request or task wrote them, and nothing private."""

import base64
import json
import logging
import re
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from notifications.models import FailingAddress, InboundMessage, InboundStatus
from notifications.tokens import reply_address
from scalr_support.celery import app
from scalr_support.observability.middleware import request_id_is_sane
from scalr_support.settings.logging import logging_config
from tests.factories import PASSWORD, ContactFactory, OrganizationFactory, tier
from tests.notifications.builders import raw_email
from tickets.models import Comment, Ticket

HEX_ID = re.compile(r"[0-9a-f]{32}")
WEBHOOK_SECRET = "inbound:observability-pass"


def test_the_default_format_is_json_lines_with_the_context_filter():
    config = logging_config("json", "INFO")
    handler = config["handlers"]["stderr"]  # type: ignore[index]

    assert handler["formatter"] == "json"
    assert handler["filters"] == ["context"]
    assert settings.LOGGING["handlers"]["stderr"]["filters"] == ["context"]


def test_an_unknown_log_format_stops_the_process_at_start():
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be json or plain"):
        logging_config("yaml", "INFO")


def test_every_line_of_a_request_carries_the_id_the_response_returns(
    client, json_log, db
):
    response = client.get("/accounts/login/")
    logging.getLogger("tests.observability").info("after the request")

    request_id = response["X-Request-ID"]
    access = [
        line for line in json_log.lines() if line["logger"] == "scalr_support.access"
    ]
    assert HEX_ID.fullmatch(request_id)
    assert access == [
        {
            "timestamp": access[0]["timestamp"],
            "level": "INFO",
            "logger": "scalr_support.access",
            "message": access[0]["message"],
            "request_id": request_id,
            "task_id": None,
            "task_name": None,
            "http_method": "GET",
            "http_route": "/accounts/login/",
            "http_status": 200,
            "duration_ms": access[0]["duration_ms"],
        }
    ]
    assert json_log.lines()[-1]["request_id"] is None  # outside the request


@pytest.mark.parametrize(
    "given",
    ["0f8fab2f-3f7c-4e52-9d3b-7a1e2c5b9a10", "a1b2c3d4e5f60718", "lb-7:trace.42_x"],
)
def test_a_sane_incoming_request_id_is_kept(client, json_log, db, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] == given
    assert {line["request_id"] for line in json_log.lines()} >= {given}


@pytest.mark.parametrize(
    "given",
    [
        "short",  # under 8 characters
        "x" * 129,  # over 128
        "id with spaces",
        'evil"}\n{"level":"ERROR"',  # a forged JSON line
        "alice@acme.example.com",  # not a token, and an address
    ],
)
def test_an_insane_incoming_request_id_is_replaced(client, json_log, db, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    assert not request_id_is_sane(given)
    assert HEX_ID.fullmatch(response["X-Request-ID"])
    ids = {line["request_id"] for line in json_log.lines()}  # every line is still JSON
    assert ids >= {response["X-Request-ID"]}
    assert given not in ids


def test_a_task_line_carries_its_task_id_and_name(json_log, db):
    from notifications.tasks import notifications_sweep

    result = notifications_sweep.apply()
    logging.getLogger("tests.observability").info("after the task")

    lines = json_log.lines()
    in_task = [line for line in lines if line["task_id"] is not None]
    assert in_task, "the sweep logs nothing in its task"
    assert {line["task_id"] for line in in_task} == {result.id}
    assert {line["task_name"] for line in in_task} == {notifications_sweep.name}
    assert lines[-1]["task_id"] is None


def _wait_for(probe, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def _postmark_bounce(address: str) -> str:
    return json.dumps(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "TypeCode": 1,
            "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
            "Email": address,
            "Recipient": address,
            "BouncedAt": "2026-11-27T09:00:00Z",
            "Description": "The server was unable to deliver your message.",
            "Details": "smtp;550 5.1.1 The email account does not exist.",
            "Metadata": {},
        }
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_mail_in_mail_out_and_a_failed_login_log_no_address_or_body(json_log, settings):
    """The email loop, an ESP bounce and a bad password, through a real worker.

    Every line they log (at DEBUG, through the production JSON format) is
    searched for the addresses and texts involved; the task lines also carry the
    id of the request that queued them.
    """
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    contact = ContactFactory(
        organization=OrganizationFactory(tier=tier("business")),
        user__email="private.person@customer-co.example.com",
        is_technical_contact=True,
    )
    description = "Our secret runner token leaked into run 4711 output."
    reply_body = "Rotated it already, thanks for the quick answer."
    browser = Client()
    json_log.clear()  # the factories' own debug lines name the address

    failed = browser.post(
        "/accounts/login/",
        {"username": contact.user.email, "password": PASSWORD + "-wrong"},
    )
    assert failed.status_code == 200  # the form again, with its error
    browser.force_login(contact.user)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        json_log.attach()
        logging.getLogger().setLevel(logging.DEBUG)
        created = browser.post(
            "/api/v1/tickets/",
            json.dumps(
                {
                    "subject": "Token leak",
                    "description": description,
                    "priority": 1,
                    "category": "bug",
                }
            ),
            content_type="application/json",
        )
        assert created.status_code == 201, created.content
        ticket = Ticket.objects.get(number=created.json()["number"])
        _wait_for(lambda: [m for m in mail.outbox if contact.user.email in m.to])
        raw = raw_email(
            sender=contact.user.email,
            to=reply_address(ticket_number=ticket.number, user_id=contact.user.pk),
            body=reply_body,
            message_id="<observability.reply@customer-co.example.com>",
        )
        auth = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
        stored = Client().post(
            "/anymail/postmark/inbound/",
            json.dumps({"RawEmail": raw.decode(), "Headers": [], "MessageID": "pm"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Basic {auth}",
        )
        assert stored.status_code == 200
        _wait_for(
            lambda: InboundMessage.objects.filter(
                status=InboundStatus.PROCESSED
            ).exists()
        )
        bounced = Client().post(
            "/anymail/postmark/tracking/",
            _postmark_bounce(contact.user.email),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Basic {auth}",
        )
        assert bounced.status_code == 200

    assert Comment.objects.filter(ticket=ticket, body=reply_body).exists()
    assert FailingAddress.objects.filter(address=contact.user.email).exists()
    lines = json_log.lines()
    text = json_log.text
    for secret in (
        contact.user.email,
        "customer-co.example.com",
        description,
        reply_body,
        "runner token",
    ):
        assert secret not in text, f"{secret!r} is in the log"
    task_lines = [line for line in lines if line["task_id"]]
    assert {line["task_name"] for line in task_lines} >= {
        "notifications.tasks.deliver_event",
        "notifications.tasks.process_inbound",
    }
    request_ids = {created["X-Request-ID"], stored["X-Request-ID"]}
    assert request_ids <= {line["request_id"] for line in task_lines}
