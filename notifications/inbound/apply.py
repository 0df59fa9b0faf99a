"""Writing a message where it goes: a comment, a reopened or a new ticket."""

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tickets import services as ticket_services
from tickets.choices import CommentSource, Priority, Status
from tickets.models import Comment, Ticket

from ..inbound_files import attachments_checked
from ..models import InboundReason
from ..threading import Destination, SenderRefused

if TYPE_CHECKING:
    from scalr_support.accounts.models import User

    from ..parsing import ParsedMessage

logger = logging.getLogger(__name__)


REOPEN_WINDOW = timedelta(days=14)


def _body(parsed: "ParsedMessage", note: str) -> str:
    """The comment's text: the reply's new text, then the attachments' note."""
    return f"{(parsed.reply_text or '').strip()}\n\n{note}".strip()


def message_apply(
    destination: Destination, parsed: "ParsedMessage", key: str
) -> Comment | Ticket:
    """Write the message where it goes: a comment, a reopened or a new ticket.

    Run inside the processing (or release) transaction, the ticket locked; the
    unique ``key`` on comments and tickets makes a second delivery an
    IntegrityError.
    """
    uploads, note = attachments_checked(parsed.attachments)
    body = _body(parsed, note)
    if not body and not uploads:
        raise SenderRefused(
            "The message has no new text and no attachments.",
            code=InboundReason.EMPTY,
        )
    ticket = destination.ticket
    if ticket is None:
        opened = _open_ticket(destination, parsed, body, uploads, key)
        _copied_colleagues_follow(opened, parsed, destination.author)
        return opened
    if ticket.status == Status.CLOSED and not destination.author.is_staff:
        closed_at = ticket.closed_at or ticket.updated_at
        if timezone.now() - closed_at > REOPEN_WINDOW:
            return _open_ticket(
                destination, parsed, body, uploads, key, follow_up_of=ticket
            )
    _copied_colleagues_follow(ticket, parsed, destination.author)
    return ticket_services.comment_create(
        ticket=ticket,
        ticket_locked=True,
        author=destination.author,
        body=body,
        is_public=True,
        source=CommentSource.EMAIL,
        files=uploads,
        email_message_id=key,
        reopen_closed=True,
    )


def _copied_colleagues_follow(
    ticket: Ticket, parsed: "ParsedMessage", author: "User"
) -> None:
    """Contacts of the ticket's organisation on Cc follow it; outsiders never do."""
    from tickets.followers import followers_from_email

    if not author.is_staff:
        followers_from_email(ticket=ticket, addresses=parsed.cc, added_by=author)


def _open_ticket(
    destination: Destination,
    parsed: "ParsedMessage",
    body: str,
    uploads: list[SimpleUploadedFile],
    key: str,
    *,
    follow_up_of: Ticket | None = None,
) -> Ticket:
    author = destination.author
    organization = author.contact.organization
    subject = (parsed.subject or "").strip() or "(no subject)"
    if follow_up_of is not None:
        body = f"Follow-up to #{follow_up_of.number}.\n\n{body}"
    return ticket_services.ticket_create(
        requester=author,
        data=ticket_services.TicketInput(
            subject=subject[: ticket_services.SUBJECT_MAX_LENGTH],
            description=body or "(see attachments)",
            priority=follow_up_of.priority if follow_up_of else Priority.MINOR,
            # No category: the service reads one from the text (tickets/categories.py).
            category=follow_up_of.category if follow_up_of else "",
            deployment=organization.deployment,
            version_reported=organization.scalr_version,
        ),
        files=uploads,
        source=CommentSource.EMAIL,
        email_message_id=key,
        follow_up_of=follow_up_of,
    )
