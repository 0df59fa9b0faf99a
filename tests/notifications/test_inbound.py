"""Inbound email becomes comments safely: threaded by signed tokens, never lost."""

import email
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from notifications import inbound, tasks
from notifications.inbound import inbound_process, inbound_store
from notifications.models import (
    EmailDelivery,
    FailingAddress,
    InboundMessage,
    InboundStatus,
)
from notifications.tokens import reply_address
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.factories import StaffFactory, TicketFactory
from tests.notifications.builders import (
    contact_reply,
    quoted_reply,
    raw_email,
    run_together,
)
from tickets.choices import CommentSource, Status
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db


def deliver(
    raw: bytes,
    *,
    envelope_from: str | None = None,
    envelope_to: list[str] | None = None,
) -> InboundMessage:
    """Store and process a message; the envelope sender is From:, as for honest mail,
    unless given ("": none)."""
    if envelope_from is None:
        envelope_from = email.message_from_bytes(raw)["From"] or ""
    message = inbound_store(
        raw=raw, transport="test", envelope_from=envelope_from, envelope_to=envelope_to
    )
    inbound_process(inbound_id=message.pk)
    message.refresh_from_db()
    return message


@pytest.fixture
def ticket(alice):
    return TicketFactory(
        organization=alice.organization,
        requester=alice.user,
        status=Status.WAITING_ON_CUSTOMER,
    )


def reply_to(ticket, user):
    return reply_address(ticket_number=ticket.number, user_id=user.pk)


def test_reply_to_the_tokened_address_adds_a_stripped_public_comment(alice, ticket):
    body = quoted_reply("Restarting the agent fixed it.", "Please restart the agent.")

    message = deliver(
        raw_email(sender=alice.user.email, to=reply_to(ticket, alice.user), body=body)
    )

    assert message.status == InboundStatus.PROCESSED
    comment = ticket.comments.get()
    assert comment.body == "Restarting the agent fixed it."
    assert comment.author == alice.user
    assert comment.is_public
    assert comment.source == CommentSource.EMAIL
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_attachments_in_a_reply_are_kept(alice, ticket):
    raw = raw_email(
        sender=alice.user.email,
        to=reply_to(ticket, alice.user),
        body="Logs attached.",
        attachments=[("agent.log", b"ERROR boom\n", "text/plain")],
    )

    deliver(raw)

    attachment = ticket.comments.get().attachments.get()
    assert attachment.filename == "agent.log"
    assert attachment.file.read() == b"ERROR boom\n"


def test_oversize_attachment_is_named_in_the_comment_not_lost(alice, ticket, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    raw = raw_email(
        sender=alice.user.email,
        to=reply_to(ticket, alice.user),
        body="Dump attached.",
        attachments=[("core.dump", b"x" * 50, "application/octet-stream")],
    )

    deliver(raw)

    comment = ticket.comments.get()
    assert "core.dump" in comment.body
    assert not comment.attachments.exists()


def flip_one_signature_character(address: str) -> str:
    """Change one character near the end of the token, always to a different one.

    Not the very last: in an unpadded encoding its low bits may carry nothing.
    """
    local, at, domain = address.partition("@")
    character = local[-5]
    flipped = "b" if character == "a" else "a"
    return f"{local[:-5]}{flipped}{local[-4:]}{at}{domain}"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda address: address.replace("support+t", "support+tt"),
            "invalid or tampered",
        ),
        (flip_one_signature_character, "invalid or tampered"),
    ],
)
def test_tampered_token_is_quarantined(alice, ticket, mutate, reason):
    message = deliver(
        raw_email(sender=alice.user.email, to=mutate(reply_to(ticket, alice.user)))
    )

    assert message.status == InboundStatus.QUARANTINED
    assert reason in message.reason
    assert not Comment.objects.exists()


def test_a_token_only_in_the_envelope_threads_the_reply(alice, ticket):
    """Bcc'd to the reply address: the headers name support@, RCPT TO the token."""
    message = deliver(
        raw_email(
            sender=alice.user.email,
            to="support@" + reply_to(ticket, alice.user).split("@")[1],
            body="Sent as Bcc.",
        ),
        envelope_from=alice.user.email,
        envelope_to=[reply_to(ticket, alice.user)],
    )

    assert message.status == InboundStatus.PROCESSED
    assert ticket.comments.get().body == "Sent as Bcc."


def test_token_moved_to_another_ticket_is_quarantined(alice, ticket):
    other = TicketFactory(organization=alice.organization, requester=alice.user)
    address = reply_to(ticket, alice.user).replace(
        f"t{ticket.number}r", f"t{other.number}r"
    )

    message = deliver(raw_email(sender=alice.user.email, to=address))

    assert message.status == InboundStatus.QUARANTINED
    assert not Comment.objects.exists()


def test_spoofed_sender_on_a_valid_token_is_quarantined(alice, bob, ticket):
    message = deliver(raw_email(sender=bob.user.email, to=reply_to(ticket, alice.user)))

    assert message.status == InboundStatus.QUARANTINED
    assert "not the person" in message.reason
    assert not Comment.objects.exists()


def test_envelope_sender_must_match_too(alice, ticket):
    message = deliver(
        raw_email(sender=alice.user.email, to=reply_to(ticket, alice.user)),
        envelope_from="attacker@evil.example.com",
    )

    assert message.status == InboundStatus.QUARANTINED


def test_subject_tag_from_another_organisations_contact_is_quarantined(gina, ticket):
    message = deliver(
        raw_email(sender=gina.user.email, subject=f"Re: [#{ticket.number}] hi")
    )

    assert message.status == InboundStatus.QUARANTINED
    assert "not a contact" in message.reason
    assert not Comment.objects.exists()


def test_subject_tag_from_a_contact_of_the_organisation_is_accepted(bob, ticket):
    message = deliver(
        raw_email(sender=bob.user.email, subject=f"Re: [#{ticket.number}] hi")
    )

    assert message.status == InboundStatus.PROCESSED
    assert ticket.comments.get().author == bob.user


def test_in_reply_to_our_message_id_threads_the_reply(alice, ticket):
    delivery = EmailDelivery.objects.create(
        event="support_replied",
        event_key="x",
        recipient=alice.user,
        to_address=alice.user.email,
        ticket=ticket,
        next_attempt_at=timezone.now(),
        message_id="<abc.123@support.example.com>",
        status="sent",
    )

    deliver(
        raw_email(
            sender=alice.user.email,
            subject="no tag here",
            in_reply_to=delivery.message_id,
        )
    )

    assert ticket.comments.count() == 1


def test_unknown_sender_is_quarantined(db):
    message = deliver(raw_email(sender="stranger@nowhere.example.com", subject="help"))

    assert message.status == InboundStatus.QUARANTINED
    assert "not a known contact" in message.reason


def test_email_to_support_from_a_technical_contact_opens_a_ticket(alice):
    message = deliver(
        raw_email(
            sender=alice.user.email,
            subject="Agent pool offline",
            body="All agents offline.",
        )
    )

    ticket = Ticket.objects.get()
    assert message.status == InboundStatus.PROCESSED
    assert message.ticket == ticket
    assert ticket.subject == "Agent pool offline"
    assert ticket.description == "All agents offline."
    assert ticket.requester == alice.user


def test_email_to_support_from_a_non_technical_contact_is_quarantined(bob):
    message = deliver(raw_email(sender=bob.user.email, subject="Agent pool offline"))

    assert message.status == InboundStatus.QUARANTINED
    assert "technical contacts" in message.reason
    assert not Ticket.objects.exists()


def test_staff_reply_by_email_is_a_public_support_reply(alice, ticket):
    engineer = StaffFactory()
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))

    deliver(
        raw_email(
            sender=engineer.email, to=reply_to(ticket, engineer), body="Fixed in 9.5.1."
        )
    )

    comment = ticket.comments.get()
    assert comment.author == engineer
    assert comment.is_public
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X-Autoreply": "yes"},
    ],
)
def test_auto_replies_never_become_comments_or_mail(
    alice, ticket, headers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = deliver(
            raw_email(
                sender=alice.user.email,
                to=reply_to(ticket, alice.user),
                body="I am out of office.",
                headers=headers,
            )
        )

    assert message.status == InboundStatus.IGNORED
    assert not Comment.objects.exists()
    assert mail.outbox == []


def test_our_own_message_coming_back_is_ignored(alice, ticket):
    message = deliver(
        raw_email(
            sender=alice.user.email,
            to=reply_to(ticket, alice.user),
            message_id="<loop.1@support.example.com>",
        )
    )

    assert message.status == InboundStatus.IGNORED
    assert not Comment.objects.exists()


def test_duplicate_deliveries_make_one_comment(alice, ticket):
    raw = raw_email(
        sender=alice.user.email,
        to=reply_to(ticket, alice.user),
        message_id="<dup.1@customer.example.com>",
    )

    first = deliver(raw)
    second = deliver(raw)

    assert first.status == InboundStatus.PROCESSED
    assert second.status == InboundStatus.IGNORED
    assert ticket.comments.count() == 1


def test_processing_task_delivered_twice_has_one_effect(alice, ticket):
    stored = inbound_store(
        raw=raw_email(sender=alice.user.email, to=reply_to(ticket, alice.user)),
        transport="test",
    )

    tasks.process_inbound.apply(args=[stored.pk])
    tasks.process_inbound.apply(args=[stored.pk])

    assert ticket.comments.count() == 1


def test_reply_to_recently_closed_ticket_reopens_it(alice, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.CLOSED, closed_at=timezone.now() - timedelta(days=3)
    )

    deliver(
        raw_email(
            sender=alice.user.email,
            to=reply_to(ticket, alice.user),
            body="It broke again.",
        )
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.comments.get().body == "It broke again."


def test_reply_to_long_closed_ticket_opens_a_linked_follow_up(alice, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.CLOSED, closed_at=timezone.now() - timedelta(days=30)
    )

    message = deliver(
        raw_email(
            sender=alice.user.email,
            to=reply_to(ticket, alice.user),
            body="It broke again.",
        )
    )

    follow_up = Ticket.objects.exclude(pk=ticket.pk).get()
    assert message.ticket == follow_up
    assert follow_up.follow_up_of == ticket
    assert f"#{ticket.number}" in follow_up.description
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_bounce_marks_the_address_failing(alice):
    lines = [
        "From: MAILER-DAEMON@mx.example.com",
        "To: support@support.example.com",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <b1@mx.example.com>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B",
        "",
        "--B",
        "Content-Type: text/plain",
        "",
        "Delivery failed.",
        "--B",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.example.com",
        "",
        f"Final-Recipient: rfc822; {alice.user.email}",
        "Action: failed",
        "Status: 5.1.1",
        "",
        "--B--",
        "",
    ]
    bounce = "\r\n".join(lines).encode()

    message = deliver(bounce, envelope_from="")

    assert message.status == InboundStatus.IGNORED
    assert FailingAddress.objects.filter(address=alice.user.email).exists()


@pytest.mark.parametrize(
    ("earlier", "spelled", "expected"),
    [
        (inbound.SENDER_RATE_LIMIT, str.lower, InboundStatus.QUARANTINED),
        (inbound.SENDER_RATE_LIMIT, str.upper, InboundStatus.QUARANTINED),
        (inbound.SENDER_RATE_LIMIT - 1, str.lower, InboundStatus.PROCESSED),
    ],
    ids=["at the limit", "any case of the address", "just under the limit"],
)
def test_a_sender_flooding_us_is_rate_limited(
    alice, ticket, earlier, spelled, expected
):
    for i in range(earlier):
        InboundMessage.objects.create(
            raw=b"x",
            raw_sha256=str(i),
            size=1,
            transport="test",
            from_address=spelled(alice.user.email),
            status=InboundStatus.PROCESSED,
        )

    message = deliver(
        raw_email(sender=alice.user.email, to=reply_to(ticket, alice.user))
    )

    assert message.status == expected
    if expected == InboundStatus.QUARANTINED:
        assert "rate limited" in message.reason


def test_duplicate_of_an_email_that_opened_a_ticket_is_ignored(alice):
    raw = raw_email(
        sender=alice.user.email,
        subject="Runs fail",
        message_id="<opened.1@customer.example.com>",
    )

    first = deliver(raw)
    second = deliver(raw)

    assert first.status == InboundStatus.PROCESSED
    assert second.status == InboundStatus.IGNORED
    assert Ticket.objects.filter(email_message_id="opened.1@customer.example.com")
    assert Ticket.objects.count() == 1


def stored_reply_with_parsing_broken(alice, ticket, monkeypatch):
    """Alice's stored reply, and a parser that crashes as a killed worker would."""

    def crash(*args, **kwargs):
        raise RuntimeError("worker blew up")

    stored = inbound_store(
        raw=raw_email(sender=alice.user.email, to=reply_to(ticket, alice.user)),
        transport="test",
    )
    monkeypatch.setattr("notifications.parsing.parse_message", crash)
    return stored


def test_each_processing_attempt_is_counted_once(alice, ticket, monkeypatch):
    stored = stored_reply_with_parsing_broken(alice, ticket, monkeypatch)
    for _ in range(2):
        assert inbound_process(inbound_id=stored.pk) == InboundStatus.RECEIVED
    monkeypatch.undo()
    inbound_process(inbound_id=stored.pk)

    stored.refresh_from_db()
    assert stored.attempts == 3
    assert stored.status == InboundStatus.PROCESSED
    assert inbound_process(inbound_id=stored.pk) is None  # done: not counted again
    stored.refresh_from_db()
    assert stored.attempts == 3


def test_oversize_message_is_refused_before_parsing(settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 100

    with pytest.raises(inbound.MessageTooLarge):
        inbound_store(raw=b"x" * 101, transport="test")

    assert not InboundMessage.objects.exists()


def test_message_that_keeps_failing_is_parked_with_its_error(
    alice, ticket, monkeypatch
):
    stored = stored_reply_with_parsing_broken(alice, ticket, monkeypatch)
    for _ in range(inbound.MAX_ATTEMPTS):
        assert inbound_process(inbound_id=stored.pk) == InboundStatus.RECEIVED
        stored.refresh_from_db()
        assert stored.last_error == "RuntimeError: worker blew up"

    assert inbound_process(inbound_id=stored.pk) == InboundStatus.PARKED
    stored.refresh_from_db()
    assert stored.status == InboundStatus.PARKED
    assert stored.reason_code == "processing_failed"
    assert stored.reason.endswith("Last error: RuntimeError: worker blew up")


def test_quarantined_message_can_be_processed_again(bob, ticket):
    message = deliver(raw_email(sender=bob.user.email, subject="Outage"))
    assert message.status == InboundStatus.QUARANTINED
    bob.is_technical_contact = True
    bob.save(update_fields=["is_technical_contact"])

    inbound.inbound_reprocess(inbound_id=message.pk)
    inbound_process(inbound_id=message.pk)

    message.refresh_from_db()
    assert message.status == InboundStatus.PROCESSED


def test_stored_but_unprocessed_messages_are_swept(alice, ticket):
    stored = inbound_store(
        raw=raw_email(sender=alice.user.email, to=reply_to(ticket, alice.user)),
        transport="test",
    )

    later = timezone.now() + timedelta(minutes=5)
    assert inbound.inbound_sweep(now=later) == [stored.pk]
    inbound_process(inbound_id=stored.pk)
    assert inbound.inbound_sweep(now=later) == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_of_one_message_make_one_comment():
    ticket, raw = contact_reply(message_id="<concurrent.1@customer.example.com>")
    stored = [inbound_store(raw=raw, transport="test").pk for _ in range(2)]

    results = run_together(
        lambda pk: inbound_process(inbound_id=pk), [(pk,) for pk in stored]
    )

    assert Comment.objects.filter(ticket=ticket).count() == 1
    assert sorted(results) == [InboundStatus.IGNORED, InboundStatus.PROCESSED]


def test_a_reply_that_restarts_the_clock_costs_nineteen_queries(
    alice, django_assert_max_num_queries
):
    """The busiest path: a customer's reply to support's answer, through the token.

    Pinned so that a change that adds a query per message shows up here: the
    email gateway's throughput follows its round trips. Nineteen counts four
    SAVEPOINT/RELEASE statements (the test's transaction makes both blocks
    savepoints) and the attempt counter's own statement; the reply reopens the
    ticket, so one more inserts the status change's audit row (who reopened it).
    """
    from tickets import services as ticket_services
    from tickets.choices import Category, Deployment, Priority

    engineer = StaffFactory()
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    opened = ticket_services.ticket_create(
        requester=alice.user,
        data=ticket_services.TicketInput(
            subject="Runs stuck",
            description="Since this morning.",
            priority=Priority.MAJOR,
            category=Category.QUESTION,
            deployment=Deployment.SAAS,
        ),
    )
    ticket_services.comment_create(
        ticket=opened, author=engineer, body="Restart the agent."
    )
    stored = inbound_store(
        raw=raw_email(sender=alice.user.email, to=reply_to(opened, alice.user)),
        transport="test",
    )

    with django_assert_max_num_queries(19):
        status = inbound_process(inbound_id=stored.pk)

    assert status == InboundStatus.PROCESSED
    opened.refresh_from_db()
    assert opened.status == Status.OPEN
    assert opened.sla_due_at is not None  # the next-response clock runs
    assert EmailDelivery.objects.filter(
        event_key__startswith="comment:", recipient=engineer
    ).exists()
