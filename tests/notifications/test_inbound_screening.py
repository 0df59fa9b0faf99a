"""One rule for a message alone and in a batch; no message blocks another."""

import pytest
from django.contrib.auth.models import Group

from notifications import parsing
from notifications.inbound import inbound_process, inbound_store
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
