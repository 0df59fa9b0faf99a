"""Notification emails say what happened, the SLA state and what comes next."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from notifications import services as notification_services
from tests.factories import TicketFactory
from tickets import services
from tickets.choices import Priority, Status

pytestmark = pytest.mark.django_db


def send_all(django_capture_on_commit_callbacks, action):
    with django_capture_on_commit_callbacks(execute=True):
        action()
    for delivery_id in notification_services.deliveries_sweep():
        notification_services.delivery_send(delivery_id=delivery_id)


def test_support_reply_lists_its_files_and_the_ticket_state(
    alice, engineer, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(
        organization=alice.organization,
        requester=alice.user,
        status=Status.OPEN,
        priority=Priority.MAJOR,
    )
    send_all(
        django_capture_on_commit_callbacks,
        lambda: services.comment_create(
            ticket=ticket,
            author=engineer,
            body="Here is the fixed config.",
            files=[SimpleUploadedFile("agent.yaml", b"pool: main\n")],
        ),
    )
    (message,) = mail.outbox
    assert "Attached:" in message.body
    assert "agent.yaml" in message.body
    assert "Status: Waiting on customer" in message.body
    assert "waiting for your answer" in message.body
    assert "Reply to this email" in message.body
    html = message.alternatives[0][0]
    assert "agent.yaml" in html


def test_a_new_ticket_email_says_when_a_response_is_due(
    alice, django_capture_on_commit_callbacks
):
    send_all(
        django_capture_on_commit_callbacks,
        lambda: services.ticket_create(
            requester=alice.user,
            data=services.TicketInput(
                subject="Runs stuck",
                description="Pending.",
                priority=Priority.CRITICAL,
                category="bug",
                deployment="saas",
            ),
        ),
    )
    to_alice = next(m for m in mail.outbox if m.to == ["alice@acme.example.com"])
    assert "next response is due by" in to_alice.body
