"""Real-time sessions: Business tier, P0-P3, requested by support only."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import EmailDelivery, Event
from scalr_support.common.errors import NotAllowed, ValidationFailed
from tests.factories import TicketFactory
from tickets import services, sessions
from tickets.choices import ConferencingProvider, Priority, SessionStatus, Status
from tickets.models import Comment, SupportSession, Ticket
from tickets.workspace.collision import Seen

pytestmark = pytest.mark.django_db

ZOOM = "https://zoom.us/j/1234567890"


def later(hours: int = 48):
    return (timezone.now() + timedelta(hours=hours)).replace(microsecond=0)


def test_a_session_on_a_free_ticket_is_refused_with_a_clear_message(free_org, engineer):
    ticket = TicketFactory(organization=free_org, priority=Priority.BLOCKER)

    with pytest.raises(NotAllowed) as refused:
        sessions.session_request(
            ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
        )

    assert "Business" in refused.value.message
    assert not SupportSession.objects.exists()


def test_a_session_on_a_p4_ticket_is_refused(org_a, engineer):
    ticket = TicketFactory(organization=org_a, priority=Priority.TRIVIAL)

    with pytest.raises(NotAllowed) as refused:
        sessions.session_request(
            ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
        )

    assert "priority 0-3" in refused.value.message


def test_customers_cannot_request_sessions(alice):
    ticket = TicketFactory(organization=alice.organization)

    with pytest.raises(NotAllowed):
        sessions.session_request(
            ticket=ticket, actor=alice.user, proposed_at=later(), link=ZOOM
        )


def test_a_request_is_a_reply_in_the_thread_and_is_mailed(
    alice, bob, engineer, alice_client
):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)

    session = sessions.session_request(
        ticket=ticket,
        actor=engineer,
        proposed_at=later(),
        link=ZOOM,
        note="We'd like to look at the agent logs together.",
    )

    assert session.provider == ConferencingProvider.ZOOM
    assert session.comment.is_public
    assert ZOOM in session.comment.body
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER
    mailed = EmailDelivery.objects.filter(
        event=Event.SUPPORT_REPLIED, event_key=f"comment:{session.comment_id}"
    )
    assert set(mailed.values_list("recipient_id", flat=True)) == {
        alice.user_id,
        bob.user_id,
    }
    page = alice_client.get(reverse("tickets:detail", args=[ticket.number]))
    html = page.content.decode()
    assert f'id="session-{session.pk}"' in html
    assert ZOOM in html
    assert "agent logs together" in html
    assert reverse("tickets:session-accept", args=[ticket.number, session.pk]) in html


def test_the_organisations_own_conferencing_is_used_when_it_prefers_it(org_a, engineer):
    org_a.prefers_own_conferencing = True
    org_a.conferencing_link = "https://meet.acme.example.com/support"
    org_a.save(update_fields=["prefers_own_conferencing", "conferencing_link"])
    ticket = TicketFactory(organization=org_a)

    session = sessions.session_request(
        ticket=ticket, actor=engineer, proposed_at=later()
    )

    assert session.provider == ConferencingProvider.CUSTOMER
    assert session.link == "https://meet.acme.example.com/support"


@pytest.mark.parametrize(
    ("link", "hours"),
    [("", 48), ("javascript:alert(1)", 48), (ZOOM, -1)],
    ids=["no-link", "not-a-url", "in-the-past"],
)
def test_a_request_needs_a_link_and_a_future_time(org_a, engineer, link, hours):
    ticket = TicketFactory(organization=org_a)

    with pytest.raises(ValidationFailed):
        sessions.session_request(
            ticket=ticket, actor=engineer, proposed_at=later(hours), link=link
        )


def test_the_customer_accepts_from_the_portal(alice, engineer, alice_client):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    session = sessions.session_request(
        ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
    )

    response = alice_client.post(
        reverse("tickets:session-accept", args=[ticket.number, session.pk])
    )
    again = alice_client.post(
        reverse("tickets:session-accept", args=[ticket.number, session.pk])
    )

    assert response.status_code == again.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.ACCEPTED
    assert session.answered_by == alice.user
    answers = Comment.objects.filter(ticket=ticket, author=alice.user)
    assert answers.count() == 1
    assert "Accepted" in answers.get().body


def test_the_customer_proposes_another_time_in_their_timezone(
    alice, engineer, alice_client
):
    alice.organization.timezone = "Europe/Berlin"
    alice.organization.save(update_fields=["timezone"])
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    session = sessions.session_request(
        ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
    )

    response = alice_client.post(
        reverse("tickets:session-propose", args=[ticket.number, session.pk]),
        {"proposed_at": "2099-06-01T10:00", "note": "Mornings are better"},
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.COUNTER_PROPOSED
    assert session.customer_proposed_at.isoformat() == "2099-06-01T08:00:00+00:00"
    reply = Comment.objects.filter(ticket=ticket, author=alice.user).get()
    assert "Mornings are better" in reply.body
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN  # back to support


def test_another_organisation_cannot_answer_the_session(alice, gina_client, engineer):
    ticket = TicketFactory(organization=alice.organization)
    session = sessions.session_request(
        ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
    )

    response = gina_client.post(
        reverse("tickets:session-accept", args=[ticket.number, session.pk])
    )

    assert response.status_code == 404
    session.refresh_from_db()
    assert session.status == SessionStatus.PROPOSED


def test_a_session_of_another_ticket_is_not_found(alice, alice_client, engineer):
    ticket = TicketFactory(organization=alice.organization)
    other = TicketFactory(organization=alice.organization)
    session = sessions.session_request(
        ticket=other, actor=engineer, proposed_at=later(), link=ZOOM
    )

    response = alice_client.post(
        reverse("tickets:session-accept", args=[ticket.number, session.pk])
    )

    assert response.status_code == 404


def test_staff_do_not_answer_for_the_customer(alice, engineer, engineer_client):
    ticket = TicketFactory(organization=alice.organization)
    session = sessions.session_request(
        ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
    )

    engineer_client.post(
        reverse("tickets:session-accept", args=[ticket.number, session.pk])
    )

    session.refresh_from_db()
    assert session.status == SessionStatus.PROPOSED


# --- from the admin -------------------------------------------------------------------


def triage_form(ticket, **overrides):
    data = {
        # What the page posts back: the ticket as it showed it (collision check).
        "seen": Seen.of(Ticket.objects.get(pk=ticket.pk)).token(),
        "status": ticket.status,
        "priority": str(ticket.priority),
        "category": ticket.category,
        "assignee": "",
        "scope_exclusion": "",
        "reply": "",
        "reply_visibility": "public",
        "priority_change_reason": "",
        "session_proposed_at_0": "",
        "session_proposed_at_1": "",
        "session_link": "",
        "session_note": "",
    }
    data.update(overrides)
    return data


def test_an_engineer_requests_a_session_from_the_ticket_page(org_a, admin_client):
    ticket = TicketFactory(organization=org_a, priority=Priority.MAJOR)

    response = admin_client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        triage_form(
            ticket,
            session_proposed_at_0="2099-06-01",
            session_proposed_at_1="09:00:00",
            session_link=ZOOM,
            session_note="Bring the logs",
        ),
    )

    assert response.status_code == 302
    session = SupportSession.objects.get(ticket=ticket)
    assert session.proposed_at.isoformat() == "2099-06-01T09:00:00+00:00"
    assert session.note == "Bring the logs"


def request_a_session_in_the_admin(admin_client, ticket):
    return admin_client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        triage_form(
            ticket,
            session_proposed_at_0="2099-06-01",
            session_proposed_at_1="09:00:00",
            session_link=ZOOM,
        ),
    )


def test_the_ticket_page_refuses_a_session_on_a_p4_next_to_the_field(
    org_a, admin_client
):
    ticket = TicketFactory(organization=org_a, priority=Priority.TRIVIAL)

    response = request_a_session_in_the_admin(admin_client, ticket)

    assert response.status_code == 200
    errors = response.context_data["form"].errors
    assert "priority 0-3" in str(errors["session_proposed_at"])
    assert not SupportSession.objects.exists()


def test_the_ticket_page_refuses_a_session_on_a_free_ticket(free_org, admin_client):
    ticket = TicketFactory(organization=free_org, priority=Priority.BLOCKER)

    response = request_a_session_in_the_admin(admin_client, ticket)

    assert response.status_code == 200
    assert "Business" in str(response.context_data["form"].errors)


def test_the_admin_thread_shows_the_session(org_a, engineer, admin_client):
    ticket = TicketFactory(organization=org_a)
    session = sessions.session_request(
        ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
    )

    page = admin_client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    assert f'id="session-{session.pk}"' in page.content.decode()


def test_a_contact_of_the_organisation_who_is_not_technical_may_answer(
    bob, bob_client, engineer
):
    ticket = TicketFactory(organization=bob.organization)
    session = sessions.session_request(
        ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
    )

    bob_client.post(reverse("tickets:session-accept", args=[ticket.number, session.pk]))

    session.refresh_from_db()
    assert session.status == SessionStatus.ACCEPTED


def test_no_session_on_a_closed_ticket(org_a, engineer):
    ticket = TicketFactory(organization=org_a)
    services.ticket_status_change(ticket=ticket, actor=engineer, status=Status.CLOSED)

    with pytest.raises(NotAllowed):
        sessions.session_request(
            ticket=ticket, actor=engineer, proposed_at=later(), link=ZOOM
        )
