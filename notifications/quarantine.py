"""Support's decisions on inbound mail set aside: release as a chosen author, discard.

A quarantined or parked message waits for a person (the admin, ``admin.py``).
Each decision is one transaction with the message's row locked and its audit row
(``InboundDecision``) written in it; a message is released or discarded at most
once (the ``one_final_decision`` constraint), so a double click or two operators
at once change nothing the second time.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import InvalidTransition, NotFound, ValidationFailed
from tickets.models import Comment
from tickets.selectors import contact_for_user, ticket_get_for_user

from .inbound import message_apply
from .models import (
    InboundAction,
    InboundDecision,
    InboundMessage,
    InboundStatus,
)
from .parsing import ParsedMessage, parse_message
from .threading import Destination, SenderRefused

logger = logging.getLogger(__name__)

SET_ASIDE = (InboundStatus.QUARANTINED, InboundStatus.PARKED)


def inbound_parsed(message: InboundMessage) -> ParsedMessage:
    """The stored message parsed as processing parses it (for the admin's preview)."""
    return parse_message(bytes(message.raw), envelope_recipients=message.envelope_to)


def _locked(inbound_id: int) -> InboundMessage:
    return InboundMessage.objects.select_for_update().get(pk=inbound_id)


def inbound_release(
    *, inbound_id: int, actor: User, author: User, ticket_number: int | None
) -> InboundMessage:
    """Add a set-aside message as ``author``'s comment on the ticket (or a new one).

    The author must be able to see the ticket (the access gate); without a ticket
    number, the author must be a customer contact, and a ticket is opened as
    theirs. Side effects as for any email reply (the clock, notifications after
    commit). Idempotent: a message already released is returned unchanged.
    """
    with transaction.atomic(durable=True):
        message = _locked(inbound_id)
        if message.decisions.filter(action=InboundAction.RELEASE).exists():
            return message
        if message.status not in SET_ASIDE:
            raise InvalidTransition(
                _("Only quarantined or parked messages can be released.")
            )
        destination = _release_destination(author, ticket_number, message)
        parsed = inbound_parsed(message)
        key = (parsed.message_id or f"<sha256-{message.raw_sha256}>")[:998]
        try:
            with transaction.atomic():
                written = message_apply(destination, parsed, key)
        except SenderRefused as refused:
            raise ValidationFailed(refused.message) from None
        except IntegrityError:
            raise InvalidTransition(
                _("This message was already added to a ticket.")
            ) from None
        comment = written if isinstance(written, Comment) else None
        message.ticket = written.ticket if isinstance(written, Comment) else written
        message.comment = comment
        message.status = InboundStatus.PROCESSED
        message.reason = _("Released by %(actor)s as %(author)s.") % {
            "actor": actor.email,
            "author": author.email,
        }
        message.reason_code = ""
        message.processed_at = timezone.now()
        message.save(
            update_fields=[
                "ticket",
                "comment",
                "status",
                "reason",
                "reason_code",
                "processed_at",
            ]
        )
        InboundDecision.objects.create(
            inbound=message,
            action=InboundAction.RELEASE,
            actor=actor,
            author=author,
            ticket=message.ticket,
        )
    logger.info("inbound %s released onto ticket %s", inbound_id, message.ticket_id)
    return message


def _release_destination(
    author: User, ticket_number: int | None, message: InboundMessage
) -> Destination:
    """Where the released message goes, refusing an author who cannot speak for it.

    A staff author makes the text a public support reply mailed to the customer,
    so only the staff member who sent the message (a reply without its token)
    can be chosen: a customer's words never go out in an engineer's name.
    """
    if not author.is_active:
        raise ValidationFailed(_("That account is not active."), field="author")
    if author.is_staff and author.email.lower() != message.from_address.lower():
        raise ValidationFailed(
            _(
                "%(author)s is support staff and did not send this message "
                "(it is from %(sender)s): choose a customer contact."
            )
            % {"author": author.email, "sender": message.from_address},
            field="author",
        )
    if ticket_number is None:
        contact = contact_for_user(author)
        if contact is None:
            raise ValidationFailed(
                _("A new ticket needs a customer contact as its author."),
                field="author",
            )
        return Destination(author=author, ticket=None)
    try:
        ticket = ticket_get_for_user(author, ticket_number, for_update=True)
    except NotFound:
        raise ValidationFailed(
            _("%(author)s cannot see ticket #%(number)d.")
            % {"author": author.email, "number": ticket_number},
            field="ticket_number",
        ) from None
    return Destination(author=author, ticket=ticket)


def inbound_discard(*, inbound_id: int, actor: User, note: str) -> InboundMessage:
    """Set a message aside for good, saying why. Idempotent once discarded."""
    note = note.strip()
    if not note:
        raise ValidationFailed(_("Say why the message is discarded."), field="note")
    with transaction.atomic(durable=True):
        message = _locked(inbound_id)
        if message.status == InboundStatus.DISCARDED:
            return message
        if message.status not in (*SET_ASIDE, InboundStatus.IGNORED):
            raise InvalidTransition(
                _("Only quarantined, parked or ignored messages can be discarded.")
            )
        message.status = InboundStatus.DISCARDED
        message.reason = _("Discarded by %(actor)s: %(note)s") % {
            "actor": actor.email,
            "note": note,
        }
        message.save(update_fields=["status", "reason"])
        InboundDecision.objects.create(
            inbound=message, action=InboundAction.DISCARD, actor=actor, note=note
        )
    logger.info("inbound %s discarded", inbound_id)
    return message
