"""Processing one stored message, once, in one transaction with its row locked.

A killed worker leaves the message untouched for the next try, and the unique
Message-ID on comments makes duplicate deliveries one comment.
"""

import logging
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from scalr_support.common.errors import ServiceError
from tickets.models import Comment

from ..models import InboundMessage, InboundReason, InboundStatus
from ..parsing.clean import db_safe
from ..senders import SenderEvidence, sender_evidence
from ..services import failing_address_record
from ..threading import SenderRefused, destination_for
from .apply import message_apply
from .screening import _dedupe_key, _has_our_domain, messages_screen

if TYPE_CHECKING:
    from ..parsing import ParsedMessage


logger = logging.getLogger(__name__)


MAX_ATTEMPTS = 5


def _count_attempt(inbound_id: int) -> bool:
    """Record a delivery attempt outside the processing transaction.

    A message that kills its worker rolls back everything else, but not this; after
    MAX_ATTEMPTS it is parked instead of killing workers forever. False when the
    message is no longer waiting (done, parked or set aside).
    """
    return bool(
        InboundMessage.objects.filter(
            pk=inbound_id, status=InboundStatus.RECEIVED
        ).update(attempts=F("attempts") + 1)
    )


def inbound_process(*, inbound_id: int) -> str | None:
    """Turn one stored message into a comment or ticket, or set it aside with a reason.

    Returns the final status, or None if it is done. A message another worker
    holds is waited for (its row lock), then found done; skipping it instead
    could drop it, because a row can be locked for a moment by a worker that is
    not processing it (``_claim_waiting``'s query checking it, say). The attempt
    count is read from the locked row.
    """
    if not _count_attempt(inbound_id):
        return None
    return _process_one(inbound_id)


def _process_one(inbound_id: int) -> str | None:
    """``inbound_process`` once the attempt is counted; never raises for a message.

    An exception rolls the message's transaction back and is written on the row
    (``last_error``); the message stays waiting for the sweep's next try and is
    parked with that error after ``MAX_ATTEMPTS``. Returning instead of raising
    lets the rest of a batch go on: one poison message delays no other.
    """
    try:
        return _process_one_locked(inbound_id)
    except SoftTimeLimitExceeded:
        raise  # the task's time is up: stop here, the sweep finds the rest
    except Exception as error:  # recorded on the row, not retried here
        logger.exception("inbound %s failed", inbound_id)
        detail = db_safe(f"{type(error).__name__}: {error}")[:2000]
        try:
            InboundMessage.objects.filter(pk=inbound_id).update(last_error=detail)
        except DatabaseError:
            raise error from None  # the database is gone: let the task fail
        return InboundStatus.RECEIVED


def _process_one_locked(inbound_id: int) -> str | None:
    with transaction.atomic(durable=True):
        message = (
            InboundMessage.objects.select_for_update()
            .filter(pk=inbound_id, status=InboundStatus.RECEIVED)
            .first()
        )
        if message is None:
            return None
        if message.attempts > MAX_ATTEMPTS:
            message.status = InboundStatus.PARKED
            message.reason_code = InboundReason.PROCESSING_FAILED
            message.reason = (
                f"Processing failed {MAX_ATTEMPTS} times; parked for a person."
                + (f" Last error: {message.last_error}" if message.last_error else "")
            )
            message.save(update_fields=["status", "reason", "reason_code"])
            logger.error(
                "inbound %s parked after %s attempts", inbound_id, MAX_ATTEMPTS
            )
            return InboundStatus.PARKED
        from ..parsing import parse_message

        # RCPT TO names the address we were really sent to, also for a Bcc.
        parsed = parse_message(
            bytes(message.raw), envelope_recipients=message.envelope_to
        )
        _note_headers(message, parsed)
        status, reason, code = _route(message, parsed)
        message.status = status
        message.reason = reason
        message.reason_code = code
        message.processed_at = timezone.now()
        message.save(update_fields=_PROCESSED_FIELDS)
    logger.info("inbound %s %s", inbound_id, status)
    return status


# What processing writes on a stored message: its own, and the outcome.
_PER_MESSAGE_FIELDS = ["message_id", "from_address", "subject", "ticket", "comment"]
_PROCESSED_FIELDS = [
    *_PER_MESSAGE_FIELDS,
    "status",
    "reason",
    "reason_code",
    "processed_at",
]


def _note_headers(message: InboundMessage, parsed: "ParsedMessage") -> None:
    message.message_id = (parsed.message_id or "")[:998]
    message.from_address = (parsed.from_address or "")[:320]
    message.subject = (parsed.subject or "")[:998]


def _route(message: InboundMessage, parsed: "ParsedMessage") -> tuple[str, str, str]:
    """Decide what the message is and apply it; returns (status, reason, code)."""
    ignored = _ignored_reason(parsed)
    if ignored:
        if parsed.bounce:
            for address in parsed.bounced_recipients:
                failing_address_record(
                    address=address, reason=f"bounce in inbound #{message.pk}"
                )
        return InboundStatus.IGNORED, ignored, ""
    duplicate_key = _dedupe_key(message, parsed)
    (screening,) = messages_screen([message], [parsed], [duplicate_key])
    if screening.ours:
        return InboundStatus.IGNORED, "One of our own messages came back.", ""
    if screening.rate_limited:
        return (
            InboundStatus.QUARANTINED,
            "Too many messages from this sender; rate limited.",
            InboundReason.RATE_LIMITED,
        )
    if screening.duplicate:
        return InboundStatus.IGNORED, "Duplicate of a message already added.", ""
    try:
        destination = destination_for(parsed, evidence=evidence_of(message, parsed))
        comment = message_apply(destination, parsed, duplicate_key)
    except SenderRefused as refused:
        return InboundStatus.QUARANTINED, refused.message, refused.code
    except IntegrityError:
        return (
            InboundStatus.IGNORED,
            "Duplicate of a message added concurrently.",
            "",
        )
    except ServiceError as error:
        return InboundStatus.QUARANTINED, error.message, InboundReason.REFUSED
    message.ticket = comment.ticket if isinstance(comment, Comment) else comment
    message.comment = comment if isinstance(comment, Comment) else None
    return InboundStatus.PROCESSED, "", ""


def _ignored_reason(parsed: "ParsedMessage") -> str:
    """Why no person wrote this message ("": one did): never a comment."""
    if parsed.bounce:
        return "Bounce (delivery status notification)."
    if parsed.auto_reply:
        return "Automatic reply."
    if parsed.report:
        return "Automatic report (feedback, receipt or delivery notice)."
    if _has_our_domain(parsed):
        return "One of our own messages came back."
    return ""


def evidence_of(message: InboundMessage, parsed: "ParsedMessage") -> SenderEvidence:
    """What the transport and the trusted servers say about this message's sender."""
    return sender_evidence(
        from_address=parsed.from_address,
        envelope_from=message.envelope_from,
        authentication_results=parsed.authentication_results,
        reported=message.authentication,
    )
