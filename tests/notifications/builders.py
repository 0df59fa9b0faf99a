"""Build raw inbound emails for tests (the .eml fixtures cover real clients' styles)."""

import socket
import threading
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.db import connection
from django.utils import timezone


def raw_email(
    *,
    sender: str,
    to: str = "support@support.example.com",
    subject: str = "Re: [#1] Runs stuck",
    body: str = "Thanks, that fixed it.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="customer.example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content, content_type in attachments:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(
            content, maintype=maintype, subtype=subtype, filename=filename
        )
    return message.as_bytes()


def quoted_reply(new_text: str, quoted: str) -> str:
    """A Gmail-style reply: new text, an attribution line, the quoted history."""
    quoted_lines = "\n".join(f"> {line}" for line in quoted.splitlines())
    attribution = (
        "On Mon, 2 Mar 2026 at 10:00, Scalr Support <support@support.example.com>"
        " wrote:"
    )
    return f"{new_text}\n\n{attribution}\n{quoted_lines}\n"


def run_together(work: Callable[..., object], calls: Sequence[tuple]) -> list:
    """Run ``work`` once per argument tuple, in threads released at the same moment.

    For races: each thread closes its own database connection. Returns the results
    in the order the calls finished.
    """
    barrier = threading.Barrier(len(calls))
    results: list = []

    def run(*args: object) -> None:
        barrier.wait()
        try:
            results.append(work(*args))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def contact_reply(*, message_id: str, body: str = "Thanks, that fixed it.") -> tuple:
    """A contact's new ticket and their reply to it, sent to their reply address."""
    from notifications.tokens import reply_address
    from tests.factories import ContactFactory, TicketFactory

    contact = ContactFactory()
    ticket = TicketFactory(organization=contact.organization, requester=contact.user)
    raw = raw_email(
        sender=contact.user.email,
        to=reply_address(ticket_number=ticket.number, user_id=contact.user.pk),
        body=body,
        message_id=message_id,
    )
    return ticket, raw


def solved_mail(contact, event_key: str):
    """A pending "ticket solved" delivery to a contact, on a new ticket of theirs."""
    from notifications import services
    from notifications.models import EmailDelivery, Event
    from tests.factories import TicketFactory

    ticket = TicketFactory(organization=contact.organization, requester=contact.user)
    services.notification_enqueue(
        event=Event.TICKET_SOLVED,
        event_key=event_key,
        recipients=[contact.user],
        ticket=ticket,
    )
    return EmailDelivery.objects.get(event_key=event_key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
