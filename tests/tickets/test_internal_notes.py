"""Internal notes and their files: one filter decides who may read them."""

import pytest
from django.contrib.auth.models import AnonymousUser

from tests.factories import CommentFactory, TicketFactory
from tickets.models import Attachment, Comment

pytestmark = pytest.mark.django_db


def attach(ticket, comment, name):
    return Attachment.objects.create(
        ticket=ticket,
        comment=comment,
        file=f"attachments/{name}",
        filename=name,
        content_type="text/plain",
        size=1,
        sha256="0" * 64,
        uploaded_by=ticket.requester,
    )


def test_customers_read_replies_but_never_internal_notes_or_their_files(
    alice, engineer
):
    ticket = TicketFactory(organization=alice.organization, requester=alice.user)
    reply = CommentFactory(ticket=ticket, author=engineer)
    note = CommentFactory(ticket=ticket, author=engineer, is_public=False)
    on_ticket = attach(ticket, None, "description.log")
    on_reply = attach(ticket, reply, "reply.log")
    attach(ticket, note, "note.log")

    for reader in (alice.user, AnonymousUser()):
        assert list(Comment.objects.filter(ticket=ticket).readable_by(reader)) == [
            reply
        ]
        assert set(Attachment.objects.filter(ticket=ticket).readable_by(reader)) == {
            on_ticket,
            on_reply,
        }
    assert Comment.objects.filter(ticket=ticket).readable_by(engineer).count() == 2
    assert Attachment.objects.filter(ticket=ticket).readable_by(engineer).count() == 3
    assert list(Comment.objects.filter(ticket=ticket).public()) == [reply]
