"""Customers cannot set what the portal decides, through forms or the API.

Organisation, requester, assignee, internal flags, numbers, timestamps and SLA
fields are the portal's to set. The API refuses them by name (400, nothing saved);
the forms have no such fields and ignore what is posted. Ids that point into
another organisation are refused.
"""

import pytest
from django.urls import reverse

from scalr_support.accounts.models import ApiToken
from tests.api.conftest import token_client
from tests.factories import CommentFactory, StaffFactory, TicketFactory
from tickets.choices import Status
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db

NEW_TICKET = {
    "subject": "Runs stuck",
    "description": "New runs stay pending.",
    "priority": 3,
    "category": "bug",
}


def forbidden_ticket_fields(gina, engineer) -> dict[str, object]:
    return {
        "organization": gina.organization_id,
        "requester": gina.user_id,
        "assignee": engineer.pk,
        "number": 4242,
        "status": "closed",
        "internal": True,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "last_activity_at": "2020-01-01T00:00:00Z",
        "solved_at": "2020-01-01T00:00:00Z",
        "closed_at": "2020-01-01T00:00:00Z",
        "first_response_due_at": "2099-01-01T00:00:00Z",
        "first_responded_at": "2020-01-01T00:00:00Z",
        "sla_state": "met",
        "sla_breached": False,
        "description_html": "<script>alert(1)</script>",
    }


def test_api_refuses_each_portal_owned_field_on_create(alice, gina, engineer):
    client = token_client(alice.user)
    for field, value in forbidden_ticket_fields(gina, engineer).items():
        response = client.post(
            "/api/v1/tickets/", {**NEW_TICKET, field: value}, format="json"
        )

        assert response.status_code == 400, field
        assert field in response.json(), field
    assert not Ticket.objects.exists()


def test_api_refuses_portal_owned_fields_on_update(alice, gina, engineer):
    client = token_client(alice.user)
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    before = Ticket.objects.filter(pk=ticket.pk).values().get()

    fields = forbidden_ticket_fields(gina, engineer)
    del fields["status"]  # the one field customers may send (solved / open)
    for field, value in fields.items():
        response = client.patch(
            f"/api/v1/tickets/{ticket.number}/",
            {"status": "solved", field: value},
            format="json",
        )

        assert response.status_code == 400, field
    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before


def test_api_refuses_authorship_and_visibility_fields_on_comments(alice):
    client = token_client(alice.user)
    ticket = TicketFactory(organization=alice.organization)
    for field, value in {
        "author": alice.user_id,
        "ticket": ticket.pk,
        "is_public": False,
        "source": "admin",
        "created_at": "2020-01-01T00:00:00Z",
    }.items():
        response = client.post(
            f"/api/v1/tickets/{ticket.number}/comments/",
            {"body": "hi", field: value},
            format="json",
        )

        assert response.status_code == 400, field
    internal = client.post(
        f"/api/v1/tickets/{ticket.number}/comments/",
        {"body": "hi", "internal": True},
        format="json",
    )
    assert internal.status_code == 403
    assert not Comment.objects.exists()


def test_api_refuses_a_comment_id_from_another_organisation(alice, gina):
    client = token_client(alice.user)
    own = TicketFactory(organization=alice.organization)
    foreign_comment = CommentFactory(
        ticket=TicketFactory(organization=gina.organization)
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/api/v1/tickets/{own.number}/attachments/",
        {
            "attachments": [SimpleUploadedFile("x.txt", b"x")],
            "comment": foreign_comment.pk,
        },
        format="multipart",
    )

    assert response.status_code == 404
    assert not foreign_comment.attachments.exists()
    assert not own.attachments.exists()


def test_staff_cannot_assign_to_a_customer(engineer, alice, gina):
    ticket = TicketFactory(organization=alice.organization)

    response = token_client(engineer).patch(
        f"/api/v1/tickets/{ticket.number}/", {"assignee": gina.user_id}, format="json"
    )

    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_portal_ticket_form_ignores_portal_owned_fields(alice_client, alice, gina):
    engineer = StaffFactory()
    response = alice_client.post(
        reverse("tickets:new"),
        {
            "subject": "Runs stuck",
            "priority": "3",
            "category": "bug",
            "deployment": "saas",
            "description": "New runs stay pending.",
            "organization": gina.organization_id,
            "organization_id": gina.organization_id,
            "requester": gina.user_id,
            "assignee": engineer.pk,
            "status": "closed",
            "number": "4242",
            "created_at": "2020-01-01T00:00:00Z",
            "first_response_due_at": "2099-01-01T00:00:00Z",
            "sla_breached": "on",
        },
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.organization == alice.organization
    assert ticket.requester == alice.user
    assert ticket.assignee is None
    assert ticket.status == Status.NEW
    assert ticket.number != 4242
    assert ticket.created_at.year != 2020


def test_portal_comment_form_cannot_post_an_internal_note(alice_client, alice, gina):
    ticket = TicketFactory(organization=alice.organization)

    alice_client.post(
        reverse("tickets:comment", args=[ticket.number]),
        {
            "body": "hello",
            "is_public": "false",
            "internal": "on",
            "author": gina.user_id,
            "ticket": TicketFactory(organization=gina.organization).pk,
        },
    )

    comment = Comment.objects.get()
    assert comment.is_public
    assert comment.author == alice.user
    assert comment.ticket == ticket


def test_token_page_makes_tokens_for_the_signed_in_user_only(alice_client, alice, gina):
    alice_client.post(reverse("accounts:tokens"), {"name": "CI", "user": gina.user_id})

    assert list(ApiToken.objects.values_list("user_id", flat=True)) == [alice.user_id]
