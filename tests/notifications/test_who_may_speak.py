"""Only the right person can speak for a ticket: attacks through the real SMTP receiver.

Each message goes through ``receive_mail``'s handler (aiosmtpd, on loopback) with
the envelope sender an MTA would relay, then through processing, as in production.
"""

import smtplib

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from notifications import inbound
from notifications.inbound import inbound_process
from notifications.models import EmailDelivery, InboundMessage, InboundStatus
from notifications.tokens import reply_address
from scalr_support.accounts.groups import SUPPORT_ENGINEER
from tests.factories import StaffFactory, TicketFactory
from tests.notifications.builders import raw_email
from tickets.choices import Status
from tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

TRUSTED = "mx.support.example.com"


@pytest.fixture
def ticket(alice):
    return TicketFactory(
        organization=alice.organization,
        requester=alice.user,
        status=Status.WAITING_ON_CUSTOMER,
    )


@pytest.fixture
def support(db):
    engineer = StaffFactory(email="engineer@support.example.com")
    engineer.groups.add(Group.objects.get(name=SUPPORT_ENGINEER))
    return engineer


@pytest.fixture
def sent_notification(alice, ticket):
    """One of our notifications on the ticket, for a reply's References."""
    return EmailDelivery.objects.create(
        event="support_replied",
        event_key="support_replied:1",
        recipient=alice.user,
        to_address=alice.user.email,
        ticket=ticket,
        next_attempt_at=timezone.now(),
        message_id="<notification.1@support.example.com>",
        status="sent",
    )


def smtp_deliver(
    port: int,
    raw: bytes,
    *,
    mail_from: str,
    rcpt: str = "support@support.example.com",
) -> InboundMessage:
    """Relay through the SMTP receiver as an MTA would, then process the message."""
    with smtplib.SMTP("127.0.0.1", port) as client:
        assert client.sendmail(mail_from, [rcpt], raw) == {}
    message = InboundMessage.objects.latest("pk")
    inbound_process(inbound_id=message.pk)
    message.refresh_from_db()
    return message


def references(kind: str, ticket, delivery) -> dict:
    """How a tokenless message points at the ticket."""
    if kind == "subject tag":
        return {"subject": f"Re: [#{ticket.number}] Runs stuck"}
    if kind == "References":
        return {"subject": "Re: runs", "in_reply_to": delivery.message_id}
    return {"subject": "Please look at this"}  # no reference: a new ticket


REFERENCE_KINDS = ["subject tag", "References", "no reference"]


@pytest.mark.parametrize("kind", REFERENCE_KINDS)
def test_forged_from_of_a_contact_is_quarantined_as_envelope_mismatch(
    smtp_server, alice, ticket, sent_notification, kind
):
    raw = raw_email(
        sender=alice.user.email,
        body="Please close my account.",
        **references(kind, ticket, sent_notification),
    )

    message = smtp_deliver(smtp_server, raw, mail_from="attacker@evil.example.net")

    assert message.status == InboundStatus.QUARANTINED
    assert message.reason_code == "envelope_mismatch"
    assert not Comment.objects.exists()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("kind", REFERENCE_KINDS)
def test_forged_from_of_staff_never_becomes_a_support_reply(
    smtp_server, support, ticket, sent_notification, kind
):
    """The reported attack: a public "staff" reply that stopped the clock."""
    raw = raw_email(
        sender=support.email,
        body="Your data is deleted.",
        **references(kind, ticket, sent_notification),
    )

    message = smtp_deliver(smtp_server, raw, mail_from="attacker@evil.example.net")

    assert message.status == InboundStatus.QUARANTINED
    assert message.reason_code == "envelope_mismatch"
    assert not Comment.objects.exists()
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_ON_CUSTOMER
    assert not any("deleted" in m.body for m in mail.outbox)


@pytest.mark.parametrize("kind", REFERENCE_KINDS)
def test_staff_without_their_reply_token_are_quarantined_even_when_genuine(
    smtp_server, support, ticket, sent_notification, kind
):
    raw = raw_email(
        sender=support.email,
        body="Fixed in 9.5.1.",
        **references(kind, ticket, sent_notification),
    )

    message = smtp_deliver(smtp_server, raw, mail_from=support.email)

    assert message.status == InboundStatus.QUARANTINED
    assert message.reason_code == "staff_without_token"
    assert not Comment.objects.exists()


def test_staff_reply_with_their_token_and_envelope_is_a_public_reply(
    smtp_server, support, ticket
):
    address = reply_address(ticket_number=ticket.number, user_id=support.pk)
    raw = raw_email(sender=support.email, to=address, body="Fixed in 9.5.1.")

    message = smtp_deliver(smtp_server, raw, mail_from=support.email, rcpt=address)

    assert message.status == InboundStatus.PROCESSED
    comment = ticket.comments.get()
    assert (comment.author, comment.is_public) == (support, True)


def test_a_staff_token_on_someone_elses_envelope_is_quarantined(
    smtp_server, support, ticket
):
    address = reply_address(ticket_number=ticket.number, user_id=support.pk)
    raw = raw_email(sender=support.email, to=address, body="Fixed in 9.5.1.")

    message = smtp_deliver(
        smtp_server, raw, mail_from="attacker@evil.example.net", rcpt=address
    )

    assert message.reason_code == "envelope_mismatch"
    assert not Comment.objects.exists()


@pytest.mark.parametrize("kind", ["subject tag", "References"])
def test_a_verified_contact_of_the_organisation_may_use_the_fallbacks(
    smtp_server, bob, ticket, sent_notification, kind
):
    raw = raw_email(
        sender=bob.user.email, **references(kind, ticket, sent_notification)
    )

    message = smtp_deliver(smtp_server, raw, mail_from=bob.user.email)

    assert message.status == InboundStatus.PROCESSED
    assert ticket.comments.get().author == bob.user


def test_a_verified_contact_of_another_organisation_may_not(smtp_server, gina, ticket):
    raw = raw_email(sender=gina.user.email, subject=f"Re: [#{ticket.number}] hi")

    message = smtp_deliver(smtp_server, raw, mail_from=gina.user.email)

    assert message.reason_code == "ticket_not_visible"
    assert not Comment.objects.exists()


def test_a_verified_technical_contact_opens_a_ticket(smtp_server, alice):
    raw = raw_email(sender=alice.user.email, subject="Agents offline", body="All.")

    message = smtp_deliver(smtp_server, raw, mail_from=alice.user.email)

    assert message.status == InboundStatus.PROCESSED
    assert Ticket.objects.get().requester == alice.user


@pytest.mark.parametrize(
    "spelled",
    [str.upper, lambda address: f"prvs=0123abcd={address}"],
    ids=["another case", "a BATV-tagged envelope"],
)
def test_the_envelope_is_the_senders_however_spelled(
    smtp_server, alice, ticket, spelled
):
    raw = raw_email(sender=alice.user.email, subject=f"Re: [#{ticket.number}] hi")

    message = smtp_deliver(smtp_server, raw, mail_from=spelled(alice.user.email))

    assert message.status == InboundStatus.PROCESSED


def dmarc_header(authserv_id: str, domain: str, result: str = "fail") -> dict:
    return {
        "Authentication-Results": (
            f"{authserv_id}; spf=pass smtp.mailfrom={domain};"
            f" dkim=none; dmarc={result} (p=reject) header.from={domain}"
        )
    }


@pytest.mark.parametrize("with_token", [False, True], ids=["subject tag", "token"])
def test_dmarc_fail_from_the_trusted_server_is_refused(
    smtp_server, settings, alice, ticket, with_token
):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    address = reply_address(ticket_number=ticket.number, user_id=alice.user.pk)
    domain = alice.user.email.rpartition("@")[2]
    raw = raw_email(
        sender=alice.user.email,
        to=address if with_token else "support@support.example.com",
        subject=f"Re: [#{ticket.number}] hi",
        headers=dmarc_header(TRUSTED.upper(), domain),
    )

    message = smtp_deliver(smtp_server, raw, mail_from=alice.user.email)

    assert message.status == InboundStatus.QUARANTINED
    assert message.reason_code == "dmarc_fail"
    assert not Comment.objects.exists()


def test_dmarc_fail_from_an_untrusted_server_is_ignored(
    smtp_server, settings, alice, ticket
):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    domain = alice.user.email.rpartition("@")[2]
    raw = raw_email(
        sender=alice.user.email,
        subject=f"Re: [#{ticket.number}] hi",
        headers=dmarc_header("mx.evil.example.net", domain),
    )

    message = smtp_deliver(smtp_server, raw, mail_from=alice.user.email)

    assert message.status == InboundStatus.PROCESSED


def test_spf_fail_from_the_trusted_server_voids_the_envelope(
    smtp_server, settings, alice, ticket
):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    raw = raw_email(
        sender=alice.user.email,
        subject=f"Re: [#{ticket.number}] hi",
        headers={
            "Authentication-Results": (
                f"{TRUSTED}; spf=fail smtp.mailfrom={alice.user.email}"
            )
        },
    )

    message = smtp_deliver(smtp_server, raw, mail_from=alice.user.email)

    assert message.reason_code == "spf_fail"


def test_nul_bytes_everywhere_still_make_a_comment(smtp_server, alice, ticket):
    """Subject, body, a header and a filename with NUL: the reply is kept, cleaned."""
    address = reply_address(ticket_number=ticket.number, user_id=alice.user.pk)
    raw = raw_email(
        sender=alice.user.email,
        to=address,
        subject="Re: stuck\x00 runs",
        body="Restarting\x00 fixed it.",
        headers={"X-Note": "a\x00b"},
        attachments=[("agent\x00.log", b"ERROR\x00boom\n", "text/plain")],
    )

    message = smtp_deliver(smtp_server, raw, mail_from=alice.user.email, rcpt=address)

    assert message.status == InboundStatus.PROCESSED
    assert message.subject == "Re: stuck runs"
    comment = ticket.comments.get()
    assert comment.body == "Restarting fixed it."
    attachment = comment.attachments.get()
    assert attachment.filename == "agent.log"
    assert attachment.file.read() == b"ERROR\x00boom\n"  # file contents stay as sent


@pytest.mark.parametrize("flood", ["auto-replies", "forged mail"])
def test_a_flood_in_a_customers_name_does_not_silence_them(
    smtp_server, alice, ticket, flood
):
    address = reply_address(ticket_number=ticket.number, user_id=alice.user.pk)
    for n in range(inbound.SENDER_RATE_LIMIT + 3):
        if flood == "auto-replies":
            raw = raw_email(
                sender=alice.user.email,
                to=address,
                body=f"I am out of office ({n}).",
                headers={"Auto-Submitted": "auto-replied"},
            )
            smtp_deliver(smtp_server, raw, mail_from=alice.user.email, rcpt=address)
        else:
            raw = raw_email(
                sender=alice.user.email,
                subject=f"Re: [#{ticket.number}] spam {n}",
            )
            smtp_deliver(smtp_server, raw, mail_from="attacker@evil.example.net")

    real = raw_email(sender=alice.user.email, to=address, body="The real reply.")
    message = smtp_deliver(smtp_server, real, mail_from=alice.user.email, rcpt=address)

    assert message.status == InboundStatus.PROCESSED
    assert list(ticket.comments.values_list("body", flat=True)) == ["The real reply."]


def test_the_senders_own_replies_still_reach_the_limit(smtp_server, alice, ticket):
    address = reply_address(ticket_number=ticket.number, user_id=alice.user.pk)
    for n in range(inbound.SENDER_RATE_LIMIT):
        raw = raw_email(sender=alice.user.email, to=address, body=f"Reply {n}.")
        smtp_deliver(smtp_server, raw, mail_from=alice.user.email, rcpt=address)

    raw = raw_email(sender=alice.user.email, to=address, body="One too many.")
    message = smtp_deliver(smtp_server, raw, mail_from=alice.user.email, rcpt=address)

    assert message.reason_code == "rate_limited"
    assert ticket.comments.count() == inbound.SENDER_RATE_LIMIT
