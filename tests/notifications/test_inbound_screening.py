"""One screening for a message alone and in a batch; no message blocks another."""

import pytest
from django.contrib.auth.models import Group

from notifications import parsing
from notifications.inbound import (
    SENDER_RATE_LIMIT,
    inbound_process,
    inbound_store,
    messages_screen,
)
from notifications.inbound_batches import inbound_process_waiting
from notifications.models import InboundMessage, InboundStatus
from notifications.tokens import reply_address
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.factories import StaffFactory, TicketFactory
from tests.notifications.builders import raw_email
from tickets import services as ticket_services
from tickets.choices import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def support():
    engineer = StaffFactory(email="queue@support.example.com")
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return engineer


def open_ticket(contact):
    return TicketFactory(
        organization=contact.organization,
        requester=contact.user,
        status=Status.WAITING_ON_CUSTOMER,
    )


def tokened(ticket, user, body, *, sender=None, envelope_from="") -> InboundMessage:
    raw = raw_email(
        sender=sender or user.email,
        to=reply_address(ticket_number=ticket.number, user_id=user.pk),
        body=body,
    )
    return inbound_store(raw=raw, transport="test", envelope_from=envelope_from)


def outcome(message) -> tuple[str, str]:
    message.refresh_from_db()
    return message.status, message.reason_code


CASES = {
    # name: (who writes, envelope sender, expected reason code)
    "staff, no envelope": ("support", "", "sender_unverified"),
    "staff, their envelope": ("support", "queue@support.example.com", ""),
    "customer, no envelope": ("alice", "", ""),
    "customer, another envelope": (
        "alice",
        "attacker@evil.example.net",
        "envelope_mismatch",
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("path", ["alone", "in a batch"])
def test_a_tokened_reply_is_judged_the_same_alone_and_in_a_batch(
    alice, support, case, path
):
    writer_name, envelope, code = CASES[case]
    writer = support if writer_name == "support" else alice.user
    ticket = open_ticket(alice)
    neighbour = tokened(open_ticket(alice), alice.user, "A neighbour's reply.")
    message = tokened(ticket, writer, "The reply.", envelope_from=envelope)

    if path == "alone":
        inbound_process(inbound_id=message.pk)
    else:
        inbound_process_waiting(inbound_id=neighbour.pk)

    expected = InboundStatus.QUARANTINED if code else InboundStatus.PROCESSED
    assert outcome(message) == (expected, code)
    assert ticket.comments.exists() == (not code)


def test_any_failure_of_a_batch_falls_back_to_one_at_a_time(alice, gina, monkeypatch):
    waiting = [
        tokened(open_ticket(alice), alice.user, "Mine."),
        tokened(open_ticket(gina), gina.user, "Ours."),
    ]

    def broken(replies):
        raise RuntimeError("a bug in the batch path")

    monkeypatch.setattr(ticket_services, "replies_create", broken)

    assert inbound_process_waiting(inbound_id=waiting[0].pk) == (
        [InboundStatus.PROCESSED] * 2
    )


def test_a_poison_message_delays_no_other_and_records_its_error(
    alice, gina, monkeypatch
):
    real_parse = parsing.parse_message

    def parse(raw, **kwargs):
        if b"POISON" in bytes(raw):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return real_parse(raw, **kwargs)

    monkeypatch.setattr(parsing, "parse_message", parse)
    waiting = [
        tokened(open_ticket(alice), alice.user, "Before."),
        tokened(open_ticket(alice), alice.user, "POISON"),
        tokened(open_ticket(gina), gina.user, "After."),
    ]

    statuses = inbound_process_waiting(inbound_id=waiting[0].pk)

    assert statuses == [
        InboundStatus.PROCESSED,
        InboundStatus.RECEIVED,
        InboundStatus.PROCESSED,
    ]
    poison = InboundMessage.objects.get(pk=waiting[1].pk)
    assert poison.last_error == (
        "ValueError: A string literal cannot contain NUL (0x00) characters."
    )


def test_attachments_over_the_limit_are_named_once_with_those_kept(alice, settings):
    settings.ATTACHMENT_MAX_COUNT = 2
    ticket = open_ticket(alice)
    files = [(f"log{n}.txt", f"line {n}\n".encode(), "text/plain") for n in range(5)]
    raw = raw_email(
        sender=alice.user.email,
        to=reply_address(ticket_number=ticket.number, user_id=alice.user.pk),
        body="Logs attached.",
        attachments=files,
    )
    message = inbound_store(raw=raw, transport="test")

    inbound_process(inbound_id=message.pk)

    comment = ticket.comments.get()
    assert comment.attachments.count() == 2
    assert comment.body.count("At most 2 files can be attached.") == 1
    assert "Not added: log2.txt, log3.txt, log4.txt." in comment.body
    assert "_Attachments added:_ log0.txt, log1.txt." in comment.body
    assert comment.body.startswith("Logs attached.")


def _our_delivery(ticket, user, message_id):
    from django.utils import timezone

    from notifications.models import EmailDelivery

    EmailDelivery.objects.create(
        event="support_replied",
        event_key=f"screening:{message_id}",
        recipient=user,
        to_address=user.email,
        ticket=ticket,
        next_attempt_at=timezone.now(),
        message_id=message_id,
        status="sent",
    )


def _processed_earlier(user, count):
    for n in range(count):
        InboundMessage.objects.create(
            raw=b"x",
            raw_sha256=f"{n:064}",
            size=1,
            transport="test",
            from_address=user.email.upper(),
            status=InboundStatus.PROCESSED,
        )


SCREENING = {
    # name: (set-up before the reply arrives, expected status, reason text)
    "a plain reply": (lambda ticket, user, mid: None, InboundStatus.PROCESSED, ""),
    "one of our own notifications": (
        _our_delivery,
        InboundStatus.IGNORED,
        "One of our own messages came back.",
    ),
    "the sender over the rate limit": (
        lambda ticket, user, mid: _processed_earlier(user, SENDER_RATE_LIMIT),
        InboundStatus.QUARANTINED,
        "Too many messages from this sender; rate limited.",
    ),
    "the sender one under the rate limit": (
        lambda ticket, user, mid: _processed_earlier(user, SENDER_RATE_LIMIT - 1),
        InboundStatus.PROCESSED,
        "",
    ),
    "a duplicate of a comment": (
        lambda ticket, user, mid: ticket_services.comment_create(
            ticket=ticket,
            author=user,
            body="Sent before.",
            email_message_id=mid.strip("<>"),  # stored as the parser reads it
        ),
        InboundStatus.IGNORED,
        "Duplicate of a message already added.",
    ),
}


@pytest.mark.parametrize("case", SCREENING)
@pytest.mark.parametrize("path", ["alone", "in a batch"])
def test_screening_decides_the_same_alone_and_in_a_batch(alice, gina, case, path):
    set_up, expected, reason = SCREENING[case]
    ticket = open_ticket(alice)
    mid = "<screened.1@customer.example.com>"
    set_up(ticket, alice.user, mid)
    # Another customer's reply goes first, so a batch takes both.
    neighbour = tokened(open_ticket(gina), gina.user, "A neighbour's reply.")
    message = inbound_store(
        raw=raw_email(
            sender=alice.user.email,
            to=reply_address(ticket_number=ticket.number, user_id=alice.user.pk),
            body="The reply.",
            message_id=mid,
        ),
        transport="test",
    )

    if path == "alone":
        inbound_process(inbound_id=message.pk)
    else:
        inbound_process_waiting(inbound_id=neighbour.pk)

    message.refresh_from_db()
    assert (message.status, message.reason) == (expected, reason)


def _parsed(message):
    return parsing.parse_message(bytes(message.raw))


def test_one_screening_call_sees_duplicates_and_the_rate_inside_the_run(alice):
    """The batch's run is screened as if each earlier message that passed was added."""
    _processed_earlier(alice.user, SENDER_RATE_LIMIT - 2)
    ticket = open_ticket(alice)
    raws = [
        raw_email(sender=alice.user.email, body="One.", message_id="<a@c.example>"),
        raw_email(sender=alice.user.email, body="Again.", message_id="<a@c.example>"),
        raw_email(sender=alice.user.email, body="Two.", message_id="<b@c.example>"),
        raw_email(sender=alice.user.email, body="Three.", message_id="<c@c.example>"),
    ]
    messages = [inbound_store(raw=raw, transport="test") for raw in raws]
    parsed = [_parsed(message) for message in messages]
    keys = [p.message_id for p in parsed]

    screenings = messages_screen(messages, parsed, keys)

    assert [(s.duplicate, s.rate_limited) for s in screenings] == [
        (False, False),
        (True, False),  # the same Message-ID as the first, earlier in the run
        (False, False),  # the limit's twentieth message
        (False, True),  # its twenty-first
    ]
    assert [s.passed for s in screenings] == [True, False, True, False]
    assert not ticket.comments.exists()  # screening writes nothing
