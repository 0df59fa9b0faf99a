"""A refused triage is a form error: nothing saved, the reply kept, no success."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import EmailDelivery
from tests.factories import TicketFactory
from tests.tickets.test_sessions import ZOOM, triage_form
from tickets.choices import Priority, Status
from tickets.models import Comment, SupportSession

pytestmark = pytest.mark.django_db


def session_at(day: str) -> dict[str, str]:
    return {
        "session_proposed_at_0": day,
        "session_proposed_at_1": "09:00:00",
        "session_link": ZOOM,
    }


def post(admin_client, ticket, data):
    return admin_client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]), data
    )


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_an_oversize_attachment_keeps_the_reply_and_saves_nothing(
    org_a, admin_client, settings
):
    settings.ATTACHMENT_MAX_BYTES = 10
    ticket = TicketFactory(organization=org_a, status=Status.OPEN)
    reply = "Here is the patched agent config; restart the agent afterwards."

    response = post(
        admin_client,
        ticket,
        triage_form(
            ticket,
            reply=reply,
            status=Status.ON_HOLD,
            reply_attachments=[SimpleUploadedFile("agent.yaml", b"x" * 50)],
        ),
    )

    assert response.status_code == 200  # the form again, not a redirect
    page = response.content.decode()
    assert "agent.yaml is 50 bytes; the limit is 10 bytes per file." in page
    assert reply in page
    assert not any("changed successfully" in text for text in said(response))
    assert not Comment.objects.filter(ticket=ticket).exists()
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert not EmailDelivery.objects.filter(ticket=ticket).exists()


def test_a_bad_session_time_undoes_the_reply_and_the_priority_change(
    org_a, admin_client
):
    ticket = TicketFactory(organization=org_a, priority=Priority.MAJOR)

    response = post(
        admin_client,
        ticket,
        triage_form(
            ticket,
            reply="Let's look at it together.",
            priority=str(Priority.CRITICAL),
            priority_change_reason="Production runs are failing.",
            scope_exclusion="modified",
            **session_at("2001-06-01"),
        ),
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Propose a time in the future." in page
    assert "Let&#x27;s look at it together." in page
    assert not any("changed successfully" in text for text in said(response))
    ticket.refresh_from_db()
    assert ticket.priority == Priority.MAJOR
    assert ticket.scope_exclusion == ""
    assert not Comment.objects.filter(ticket=ticket).exists()
    assert not SupportSession.objects.exists()


def test_a_session_refused_for_the_tier_is_a_form_error(admin_client):
    ticket = TicketFactory(priority=Priority.MINOR)  # any tier; Free is refused
    ticket.organization.tier.realtime_sessions = False
    ticket.organization.tier.save(update_fields=["realtime_sessions"])

    response = post(
        admin_client,
        ticket,
        triage_form(
            ticket,
            reply="Typed reply",
            **session_at("2099-06-01"),
        ),
    )

    assert response.status_code == 200
    assert "Typed reply" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_scope_reply_and_session_succeed_together(org_a, admin_client):
    ticket = TicketFactory(organization=org_a, priority=Priority.MAJOR)

    response = post(
        admin_client,
        ticket,
        triage_form(
            ticket,
            reply="Noted.",
            scope_exclusion="modified",
            **session_at("2099-06-01"),
        ),
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.scope_exclusion == "modified"
    assert SupportSession.objects.filter(ticket=ticket).count() == 1
    assert Comment.objects.filter(ticket=ticket).count() == 2
    texts = said(response)
    assert any("session request was sent" in text for text in texts)
