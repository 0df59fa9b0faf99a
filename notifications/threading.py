"""Decide which ticket an inbound email belongs to, and who is speaking.

Authority comes from the signed reply token; without one, a Message-ID we sent or a
``[#123]`` subject tag is believed only for a customer whose address the evidence
vouches for (``notifications.senders``) and who may see that ticket. Support staff
speak only through their own token. Anything doubtful raises SenderRefused with a
reason code, and the message is quarantined with the reason, never dropped.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from scalr_support.accounts.models import User
from scalr_support.common.errors import NotFound, ServiceError
from tickets.models import Ticket
from tickets.selectors import (
    contact_for_user,
    ticket_get_for_user,
    tickets_get_for_users,
    users_with_membership,
)

from .models import EmailDelivery, InboundReason
from .senders import Refusal, SenderEvidence, evidence_refusal
from .tokens import ReplyToken, reply_token_read

if TYPE_CHECKING:
    from .parsing import ParsedMessage


class SenderRefused(ServiceError):
    """The message cannot be accepted as written by its sender (quarantined).

    ``code`` is an ``InboundReason``: what the admin filters the quarantine by.
    """

    def __init__(self, message: str, *, code: str = InboundReason.REFUSED) -> None:
        super().__init__(message)
        self.code = code

    @classmethod
    def because(cls, refusal: Refusal) -> "SenderRefused":
        return cls(refusal.message, code=refusal.code)


@dataclass(frozen=True)
class Destination:
    """Who is writing, and the ticket they write on (None: open a new one).

    The ticket is locked (``SELECT ... FOR UPDATE``), so ``destination_for`` must
    run in the transaction that adds the comment.
    """

    author: User
    ticket: Ticket | None


def _sender_addresses(parsed: "ParsedMessage", envelope_from: str) -> set[str]:
    addresses = {parsed.from_address.lower()} if parsed.from_address else set()
    if envelope_from:
        addresses.add(envelope_from.lower())
    return addresses


def _user_by_email(address: str) -> User | None:
    return users_with_membership().filter(email__iexact=address, is_active=True).first()


def _verified_token(tokens: Sequence[str]) -> ReplyToken | None:
    """The first of the message's reply tokens that verifies."""
    return next(filter(None, map(reply_token_read, tokens)), None)


def _sent_by(user: User, parsed: "ParsedMessage", envelope_from: str) -> bool:
    """Whether every sender address of the message is the user's."""
    return not _sender_addresses(parsed, envelope_from) - {user.email.lower()}


def token_sender_refusal(
    user: User, parsed: "ParsedMessage", evidence: SenderEvidence
) -> SenderRefused | None:
    """Why the token's recipient is not the one speaking, or None if they are.

    The one rule for tokened replies, alone or in a batch: the evidence must not
    contradict the sender (staff need it to vouch for them), and From: and the
    envelope sender must both be the person the token was made for.
    """
    refusal = evidence_refusal(evidence, with_token=True, is_staff=user.is_staff)
    if refusal is not None:
        return SenderRefused.because(refusal)
    if not _sent_by(user, parsed, evidence.envelope_from):
        return SenderRefused(
            "The sender is not the person this reply address was sent to.",
            code=InboundReason.NOT_TOKEN_RECIPIENT,
        )
    return None


def _from_token(
    parsed: "ParsedMessage", evidence: SenderEvidence, tokens: Sequence[str]
) -> Destination:
    token = _verified_token(tokens)
    if token is None:
        raise SenderRefused(
            "The reply address carries an invalid or tampered token.",
            code=InboundReason.INVALID_TOKEN,
        )
    user = users_with_membership().filter(pk=token.user_id, is_active=True).first()
    if user is None:
        raise SenderRefused(
            "The reply token names an account that no longer exists.",
            code=InboundReason.TOKEN_ACCOUNT_GONE,
        )
    refused = token_sender_refusal(user, parsed, evidence)
    if refused is not None:
        raise refused
    try:
        ticket = _ticket_locked(user, token.ticket_number)
    except NotFound:
        raise SenderRefused(
            "The reply token's recipient can no longer see that ticket.",
            code=InboundReason.TICKET_NOT_VISIBLE,
        ) from None
    return Destination(author=user, ticket=ticket)


def token_destinations(
    messages: Sequence[tuple["ParsedMessage", SenderEvidence]],
) -> list[Destination | None]:
    """``destination_for`` for many replies carrying a reply token, in two queries.

    ``messages`` are (parsed, sender evidence). Each answer is a destination with
    its ticket locked, or None where a message is not a plain reply by the token's
    recipient on a ticket they see: ``destination_for`` then decides it alone and
    gives the reason. So does a ticket that several people write on in the batch.
    """
    tokens = [_verified_token(parsed.reply_tokens) for parsed, _ in messages]
    users = (
        users_with_membership()
        .filter(is_active=True)
        .in_bulk({token.user_id for token in tokens if token is not None})
    )
    claims: list[tuple[User, int] | None] = []
    for (parsed, evidence), token in zip(messages, tokens, strict=True):
        user = users.get(token.user_id) if token is not None else None
        if (
            token is None
            or user is None
            or token_sender_refusal(user, parsed, evidence) is not None
        ):
            claims.append(None)
        else:
            claims.append((user, token.ticket_number))
    writers: dict[int, set[int]] = {}
    for claim in filter(None, claims):
        writers.setdefault(claim[1], set()).add(claim[0].pk)
    claims = [
        claim if claim is not None and len(writers[claim[1]]) == 1 else None
        for claim in claims
    ]
    tickets = tickets_get_for_users(set(filter(None, claims)), for_update=True)
    return [
        Destination(author=claim[0], ticket=tickets[claim[1]])
        if claim is not None and claim[1] in tickets
        else None
        for claim in claims
    ]


def _ticket_locked(user: User, number: int) -> Ticket:
    """The ticket through the access gate, row-locked for the comment to come.

    Taken here, once, so that ``comment_create`` need not read it again; the
    people are left out because the reply path uses only their ids.
    """
    return ticket_get_for_user(user, number, for_update=True, with_people=False)


def _referenced_ticket(parsed: "ParsedMessage") -> int | None:
    """A ticket this message answers: our Message-IDs first, then the subject tag."""
    ids = [mid.strip("<>") for mid in (*parsed.in_reply_to, *parsed.references) if mid]
    if ids:
        number = (
            EmailDelivery.objects.filter(
                message_id__in=[f"<{mid}>" for mid in ids], ticket__isnull=False
            )
            .values_list("ticket__number", flat=True)
            .first()
        )
        if number is not None:
            return number
        for mid in ids:
            thread = _thread_number(mid)
            if thread is not None:
                return thread
    return parsed.subject_ticket_number


def _thread_number(message_id: str) -> int | None:
    local, _, domain = message_id.strip("<>").partition("@")
    if domain.lower() == settings.SUPPORT_EMAIL_DOMAIN.lower() and local.startswith(
        "ticket-"
    ):
        digits = local.removeprefix("ticket-")
        return int(digits) if digits.isdigit() and len(digits) < 10 else None
    return None


def destination_for(
    parsed: "ParsedMessage", *, evidence: SenderEvidence
) -> Destination:
    """Who wrote this and where it goes; raises SenderRefused when in doubt.

    Without a reply token (subject tag, References, a new ticket) the evidence
    must vouch for the From: address, the sender must be a customer (staff speak
    only through their token) and a contact of the ticket's organisation. Call
    inside the processing transaction: the ticket comes back row-locked.
    """
    if parsed.reply_tokens:
        return _from_token(parsed, evidence, parsed.reply_tokens)
    refusal = evidence_refusal(evidence, with_token=False, is_staff=False)
    if refusal is not None:
        raise SenderRefused.because(refusal)
    sender = _user_by_email(parsed.from_address) if parsed.from_address else None
    if sender is None:
        raise SenderRefused(
            "The sender is not a known contact or support engineer.",
            code=InboundReason.UNKNOWN_SENDER,
        )
    if sender.is_staff:
        raise SenderRefused(
            "Support staff answer by email only through their own reply address.",
            code=InboundReason.STAFF_WITHOUT_TOKEN,
        )
    number = _referenced_ticket(parsed)
    if number is not None:
        try:
            return Destination(author=sender, ticket=_ticket_locked(sender, number))
        except NotFound:
            raise SenderRefused(
                "The sender is not a contact of the referenced ticket's organisation.",
                code=InboundReason.TICKET_NOT_VISIBLE,
            ) from None
    contact = contact_for_user(sender)
    if contact is None or not contact.is_technical_contact:
        raise SenderRefused(
            "Only an organisation's technical contacts can open tickets by email.",
            code=InboundReason.NOT_TECHNICAL_CONTACT,
        )
    return Destination(author=sender, ticket=None)
