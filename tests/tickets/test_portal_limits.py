"""The portal's length limits: said next to the field, refused clearly, nothing lost."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from scalr_support.common.sizes import size_text
from tests.factories import TicketFactory
from tickets.choices import Status
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db


def test_a_reply_over_100000_characters_is_refused_and_kept(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    body = "long log line\n" * 7200  # 100,800 characters

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]), {"body": body}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Keep this under 100,000 characters" in page
    assert page.count("long log line") == 7200  # every character still in the form
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_a_description_over_100000_characters_is_refused(alice, alice_client):
    response = alice_client.post(
        reverse("tickets:new"),
        {
            "subject": "Too long",
            "priority": "3",
            "category": "bug",
            "deployment": "on_prem",
            "description": "x" * 100_001,
        },
    )

    assert response.status_code == 400
    assert "Keep this under 100,000 characters" in response.content.decode()
    assert not Ticket.objects.filter(subject="Too long").exists()


def test_the_limit_is_said_next_to_each_text_field(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    pages = [
        alice_client.get(url).content.decode()
        for url in (
            reverse("tickets:new"),
            reverse("tickets:detail", args=[ticket.number]),
        )
    ]
    new, detail = pages

    assert 'id="id_description_help">' in new
    assert all("Up to 100,000 characters." in page for page in pages)
    assert "maxlength" not in detail.split('name="body"')[1].split(">")[0]


def test_a_20_mb_comment_is_refused_before_it_is_read(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]),
        "body=" + "a" * (20 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert "The request is too large (21.0 MB" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_a_form_too_large_to_read_says_so_instead_of_bad_request(
    alice, alice_client, settings
):
    """Fields over DATA_UPLOAD_MAX_MEMORY_SIZE in a multipart reply (files pass)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]), {"body": "x" * 20_000}
    )

    assert response.status_code == 413
    assert (
        "The request is too large (the limit is 10.0 KB)" in response.content.decode()
    )
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_an_oversized_api_body_gets_a_json_413(alice_client):
    response = alice_client.post(
        "/api/v1/tickets/",
        '{"subject": "' + "a" * (3 * 1024 * 1024) + '"}',
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


# --- attachments -------------------------------------------------------------------


def test_an_oversize_file_reads_larger_than_the_limit(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    upload = SimpleUploadedFile("dump.tar", b"\0" * 21_000_000)

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]),
        {"body": "Dump attached", "attachments": [upload]},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "dump.tar is 21.0 MB; the limit is 20.0 MB per file." in page
    assert "Dump attached" in page  # the reply is still in the form


@pytest.mark.parametrize(
    ("size", "shown"),
    [(20_000_001, "20.1 MB"), (20_049_999, "20.1 MB"), (25_000_000, "25.0 MB")],
)
def test_a_size_over_the_limit_never_reads_as_the_limit(size, shown):
    assert size_text(size, above=20_000_000) == shown
    assert size_text(20_000_000) == "20.0 MB"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", b"MZ\x90\x00 a program"),
        ("invoice.pdf.js", b"alert(1)"),
        ("fix.ps1", b"Remove-Item C:/"),
        ("renamed.txt", b"MZ\x90\x00 a program in disguise"),
        ("tool.log", b"\x7fELF\x02\x01\x01"),
    ],
)
def test_programs_and_scripts_are_refused_by_default(
    alice, alice_client, name, content
):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)

    response = alice_client.post(
        reverse("tickets:comment", args=[ticket.number]),
        {"body": "See file", "attachments": [SimpleUploadedFile(name, content)]},
    )

    assert response.status_code == 400
    assert "programs and scripts are refused" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_the_lists_of_refused_and_accepted_types_are_settings(
    alice, alice_client, settings
):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    url = reverse("tickets:comment", args=[ticket.number])
    settings.ATTACHMENT_DENIED_EXTENSIONS = ["log"]

    refused = alice_client.post(
        url, {"attachments": [SimpleUploadedFile("agent.log", b"ERROR")]}
    )
    accepted = alice_client.post(
        url, {"attachments": [SimpleUploadedFile("setup.sh", b"echo hi")]}
    )
    settings.ATTACHMENT_ALLOWED_EXTENSIONS = ["png", "txt"]
    outside = alice_client.post(
        url, {"attachments": [SimpleUploadedFile("notes.md", b"# hi")]}
    )

    assert refused.status_code == 400
    assert accepted.status_code == 302
    assert outside.status_code == 400
    assert "only these types are accepted: .png, .txt" in outside.content.decode()


def test_the_upload_field_states_its_limits(alice, alice_client, settings):
    settings.ATTACHMENT_MAX_COUNT = 4
    page = alice_client.get(reverse("tickets:new")).content.decode()

    assert "Up to 4 files, 20.0 MB each." in page
    assert "Programs and scripts" in page
