"""Files kept after a refused form, and previews of image attachments."""

import io
import os
import re
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import TicketFactory
from tickets import held_uploads, services
from tickets.choices import Status

pytestmark = pytest.mark.django_db


def png(width=800, height=600) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), "#3b5bdb").save(output, format="PNG")
    return output.getvalue()


def new_ticket(client, subject: str, **extra):
    form = {
        "subject": subject,
        "priority": "3",
        "category": "bug",
        "deployment": "saas",
        "description": "Agents offline.",
    }
    return client.post("/tickets/new/", {**form, **extra})


def test_files_are_kept_when_the_new_ticket_form_is_refused(alice_client):
    log = SimpleUploadedFile("agent.log", b"ERROR lost", content_type="text/plain")
    refused = new_ticket(alice_client, "", attachments=[log])
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Files kept from your last try" in html
    assert "agent.log" in html
    token = re.search(r'name="held_upload" value="([^"]+)"', html)[1]

    created = new_ticket(alice_client, "Agents offline", held_upload=[token])
    assert created.status_code == 302
    ticket = alice_client.get(created["Location"]).content.decode()
    assert "agent.log" in ticket
    assert default_storage.listdir("attachments/held")[1] == []  # attached, not kept


def test_kept_files_are_useless_to_another_user(alice_client, bob_client, alice):
    log = SimpleUploadedFile("secret.log", b"token=abc", content_type="text/plain")
    html = new_ticket(alice_client, "", attachments=[log]).content.decode()
    token = re.search(r'name="held_upload" value="([^"]+)"', html)[1]
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    bob_client.post(
        f"/tickets/{ticket.number}/comments/",
        {"body": "Here it is", "held_upload": [token]},
    )
    assert not ticket.attachments.exists()


def test_a_refused_reply_keeps_its_file(alice_client, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    log = SimpleUploadedFile("trace.txt", b"trace", content_type="text/plain")
    refused = alice_client.post(
        f"/tickets/{ticket.number}/comments/",
        {"body": "x" * 200_001, "attachments": [log]},
    )
    assert refused.status_code == 400
    assert "trace.txt" in refused.content.decode()


def test_image_attachments_get_a_thumbnail_through_the_access_gate(
    alice, alice_client, gina_client
):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    comment = services.comment_create(
        ticket=ticket,
        author=alice.user,
        body="Screenshot",
        files=[SimpleUploadedFile("screen.png", png(), content_type="image/png")],
    )
    attachment = comment.attachments.get()
    url = f"/tickets/{ticket.number}/attachments/{attachment.pk}/thumbnail/"
    page = alice_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert url in page
    assert 'alt="Preview of screen.png"' in page

    response = alice_client.get(url)
    assert response["Content-Type"] == "image/png"
    preview = Image.open(io.BytesIO(response.content))
    assert preview.width <= 240
    assert preview.height <= 180
    assert gina_client.get(url).status_code == 404


def test_a_file_named_like_an_image_that_is_not_one_gets_no_preview(
    alice, alice_client
):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    comment = services.comment_create(
        ticket=ticket,
        author=alice.user,
        body="Fake",
        files=[
            SimpleUploadedFile("fake.png", b"not an image", content_type="image/png")
        ],
    )
    attachment = comment.attachments.get()
    url = f"/tickets/{ticket.number}/attachments/{attachment.pk}/thumbnail/"
    assert alice_client.get(url).status_code == 404


def broken_png() -> bytes:
    """A PNG whose header reads fine but whose pixel data runs into a garbage
    chunk: Pillow opens it and fails only while decoding."""
    output = io.BytesIO()
    Image.frombytes("RGB", (64, 48), os.urandom(64 * 48 * 3)).save(output, "PNG")
    data = output.getvalue()
    (length,) = struct.unpack(">I", data[33:37])
    half = data[41 : 41 + length // 2]
    idat = b"IDAT" + half
    chunk = struct.pack(">I", len(half)) + idat + struct.pack(">I", zlib.crc32(idat))
    return data[:33] + chunk + b"\x00\x00\x00\x08r A_" + b"\x00" * 12


def test_a_broken_image_gets_no_preview_instead_of_an_error(alice, alice_client):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    comment = services.comment_create(
        ticket=ticket,
        author=alice.user,
        body="Broken",
        files=[
            SimpleUploadedFile("broken.png", broken_png(), content_type="image/png")
        ],
    )
    attachment = comment.attachments.get()
    url = f"/tickets/{ticket.number}/attachments/{attachment.pk}/thumbnail/"
    alice_client.raise_request_exception = False
    assert alice_client.get(url).status_code == 404
    download = alice_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "broken.png" in download  # the file itself is still offered


def test_a_kept_file_sent_twice_is_attached_once(alice_client, alice):
    ticket = TicketFactory(organization=alice.organization, status=Status.OPEN)
    log = SimpleUploadedFile("twice.log", b"once only", content_type="text/plain")
    (held,) = held_uploads.uploads_hold(user=alice.user, files=[log])
    alice_client.post(
        f"/tickets/{ticket.number}/comments/",
        {"body": "Here it is", "held_upload": [held.token, held.token]},
    )
    assert list(ticket.attachments.values_list("filename", flat=True)) == ["twice.log"]
