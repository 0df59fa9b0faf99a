"""Comments and files through the API: who sees what, who may write what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import CommentFactory, TicketFactory
from tickets import services
from tickets.choices import Status
from tickets.models import Attachment, Comment

pytestmark = pytest.mark.django_db


def comments_url(ticket) -> str:
    return f"/api/v1/tickets/{ticket.number}/comments/"


def attachments_url(ticket) -> str:
    return f"/api/v1/tickets/{ticket.number}/attachments/"


# --- comments -------------------------------------------------------------------------


def test_customers_never_receive_internal_notes(
    alice_api, engineer_api, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization)
    services.comment_create(ticket=ticket, author=engineer, body="Public answer")
    services.comment_create(
        ticket=ticket, author=engineer, body="Internal suspicion", is_public=False
    )

    customer = alice_api.get(comments_url(ticket)).json()["results"]
    staff = engineer_api.get(comments_url(ticket)).json()["results"]

    assert [c["body"] for c in customer] == ["Public answer"]
    assert [(c["body"], c["internal"]) for c in staff] == [
        ("Public answer", False),
        ("Internal suspicion", True),
    ]
    assert customer[0]["author"] == {
        "id": engineer.pk,
        "name": engineer.display_name,
        "is_support": True,
    }


def test_contact_replies_through_the_api(bob_api, bob):
    ticket = TicketFactory(
        organization=bob.organization, status=Status.WAITING_ON_CUSTOMER
    )

    response = bob_api.post(
        comments_url(ticket), {"body": "Here are the **logs**"}, format="json"
    )

    assert response.status_code == 201
    comment = Comment.objects.get()
    assert comment.author == bob.user
    assert comment.source == "api"
    assert comment.is_public
    assert "<strong>logs</strong>" in response.json()["body_html"]
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_customer_cannot_write_an_internal_note(alice_api, alice):
    ticket = TicketFactory(organization=alice.organization)

    response = alice_api.post(
        comments_url(ticket), {"body": "psst", "internal": True}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert not Comment.objects.exists()


def test_staff_write_internal_notes(engineer_api, alice):
    ticket = TicketFactory(organization=alice.organization)

    response = engineer_api.post(
        comments_url(ticket), {"body": "Known bug", "internal": True}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["internal"] is True
    assert Comment.objects.get().is_public is False


def test_reply_with_files_in_multipart(alice_api, alice):
    ticket = TicketFactory(organization=alice.organization)

    response = alice_api.post(
        comments_url(ticket),
        {"body": "", "attachments": [SimpleUploadedFile("dump.txt", b"dump")]},
        format="multipart",
    )

    assert response.status_code == 201
    assert [a["filename"] for a in response.json()["attachments"]] == ["dump.txt"]


def test_empty_reply_is_a_field_error(alice_api, alice):
    ticket = TicketFactory(organization=alice.organization)

    response = alice_api.post(comments_url(ticket), {"body": "  "}, format="json")

    assert response.status_code == 400
    assert response.json() == {"body": ["Write a comment or attach a file."]}


def test_closed_ticket_takes_no_customer_reply(alice_api, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.CLOSED)

    response = alice_api.post(comments_url(ticket), {"body": "hi"}, format="json")

    assert response.status_code == 409
    assert "closed" in response.json()["detail"]
    assert not Comment.objects.exists()


def test_commenting_on_another_organisations_ticket_is_not_found(alice_api, gina):
    foreign = TicketFactory(organization=gina.organization)

    listing = alice_api.get(comments_url(foreign))
    posting = alice_api.post(comments_url(foreign), {"body": "hi"}, format="json")

    assert listing.status_code == posting.status_code == 404
    assert not Comment.objects.exists()


def test_comment_list_query_count_is_constant(
    alice_api, alice, django_assert_max_num_queries
):
    ticket = TicketFactory(organization=alice.organization)
    for _ in range(2):
        CommentFactory(ticket=ticket)
    with django_assert_max_num_queries(6):
        alice_api.get(comments_url(ticket))
    for _ in range(20):
        services.comment_create(
            ticket=ticket,
            author=alice.user,
            body="more",
            files=[SimpleUploadedFile("a.txt", b"a")],
        )
    with django_assert_max_num_queries(6):
        response = alice_api.get(comments_url(ticket))

    assert len(response.json()["results"]) == 22


# --- attachments ----------------------------------------------------------------------


def upload(client, ticket, *names: str, **extra: object):
    return client.post(
        attachments_url(ticket),
        {"attachments": [SimpleUploadedFile(n, n.encode()) for n in names], **extra},
        format="multipart",
    )


def test_contact_uploads_files_to_the_ticket(bob_api, bob):
    ticket = TicketFactory(organization=bob.organization)

    response = upload(bob_api, ticket, "one.log", "two.log")

    assert response.status_code == 201
    assert [a["filename"] for a in response.json()] == ["one.log", "two.log"]
    assert all(a["comment"] is None for a in response.json())
    assert Attachment.objects.filter(ticket=ticket, comment=None).count() == 2


def test_contact_adds_files_to_own_comment_only(alice_api, alice, bob):
    ticket = TicketFactory(organization=alice.organization)
    own = CommentFactory(ticket=ticket, author=alice.user)
    others = CommentFactory(ticket=ticket, author=bob.user)

    mine = upload(alice_api, ticket, "mine.txt", comment=own.pk)
    theirs = upload(alice_api, ticket, "theirs.txt", comment=others.pk)

    assert mine.status_code == 201
    assert mine.json()[0]["comment"] == own.pk
    assert theirs.status_code == 403
    assert not others.attachments.exists()


def test_files_cannot_go_to_a_comment_of_another_ticket(alice_api, alice, gina):
    ticket = TicketFactory(organization=alice.organization)
    foreign = CommentFactory(ticket=TicketFactory(organization=gina.organization))

    response = upload(alice_api, ticket, "x.txt", comment=foreign.pk)

    assert response.status_code == 404
    assert not Attachment.objects.exists()


def test_customer_cannot_attach_to_an_internal_note(alice_api, alice, engineer):
    ticket = TicketFactory(organization=alice.organization)
    note = services.comment_create(
        ticket=ticket, author=engineer, body="internal", is_public=False
    )

    response = upload(alice_api, ticket, "x.txt", comment=note.pk)

    assert response.status_code == 404


def test_upload_needs_a_file(alice_api, alice):
    ticket = TicketFactory(organization=alice.organization)

    response = alice_api.post(attachments_url(ticket), {}, format="multipart")

    assert response.status_code == 400
    assert "attachments" in response.json()


def test_upload_respects_the_count_limit_with_files_already_there(
    alice_api, alice, settings
):
    settings.ATTACHMENT_MAX_COUNT = 2
    ticket = TicketFactory(organization=alice.organization)
    assert upload(alice_api, ticket, "a.txt", "b.txt").status_code == 201

    response = upload(alice_api, ticket, "c.txt")

    assert response.status_code == 400
    assert "At most 2 files" in response.json()["attachments"][0]


def test_customers_see_neither_internal_files_in_lists_nor_downloads(
    alice_api, engineer_api, alice, engineer
):
    ticket = TicketFactory(organization=alice.organization)
    note = services.comment_create(
        ticket=ticket,
        author=engineer,
        body="internal",
        is_public=False,
        files=[SimpleUploadedFile("internal.txt", b"secret")],
    )
    hidden = note.attachments.get()
    upload(alice_api, ticket, "public.txt")

    customer = alice_api.get(attachments_url(ticket)).json()["results"]
    staff = engineer_api.get(attachments_url(ticket)).json()["results"]
    download = alice_api.get(f"{attachments_url(ticket)}{hidden.pk}/")

    assert [a["filename"] for a in customer] == ["public.txt"]
    assert {a["filename"] for a in staff} == {"public.txt", "internal.txt"}
    assert download.status_code == 404


def test_another_organisations_attachment_is_not_found(alice_api, alice, gina):
    foreign = services.ticket_create(
        requester=gina.user,
        data=services.TicketInput("Logs", "see file", 3, "bug", "saas"),
        files=[SimpleUploadedFile("secret.txt", b"globex secret")],
    )
    attachment = foreign.attachments.get()
    own = TicketFactory(organization=alice.organization)

    direct = alice_api.get(f"{attachments_url(foreign)}{attachment.pk}/")
    via_own = alice_api.get(f"{attachments_url(own)}{attachment.pk}/")
    uploading = upload(alice_api, foreign, "x.txt")

    assert direct.status_code == via_own.status_code == uploading.status_code == 404
    assert foreign.attachments.count() == 1


def test_download_is_an_inert_attachment_whatever_the_client_accepts(alice_api, alice):
    ticket = services.ticket_create(
        requester=alice.user,
        data=services.TicketInput("Logs", "see file", 3, "bug", "saas"),
        files=[SimpleUploadedFile("page.html", b"<script>alert(1)</script>")],
    )
    attachment = ticket.attachments.get()

    response = alice_api.get(
        f"{attachments_url(ticket)}{attachment.pk}/",
        HTTP_ACCEPT="application/octet-stream",
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
