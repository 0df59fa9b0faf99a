"""The inbound email pipeline: store first, then process once.

Both transports (SMTP and the ESP webhooks) call ``inbound_store`` and answer the
sender only after it returns, so an accepted message is always in PostgreSQL.
``inbound_process`` runs in a task; a message is processed in one transaction with
its row locked, so a killed worker leaves it untouched for the next try, and the
unique Message-ID on comments makes duplicate deliveries one comment.
"""

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import BooleanField, Exists, F, Q, Value
from django.utils import timezone

from scalr_support.common.errors import ServiceError
from scalr_support.common.tasks import enqueue, enqueue_on_commit
from tickets import services as ticket_services
from tickets.choices import CommentSource, Priority, Status
from tickets.models import Comment, Ticket

from .inbound_files import attachments_checked
from .models import EmailDelivery, InboundMessage, InboundReason, InboundStatus
from .parsing.clean import db_safe
from .senders import SenderEvidence, sender_evidence
from .services import failing_address_record
from .threading import Destination, SenderRefused, destination_for

if TYPE_CHECKING:
    from scalr_support.accounts.models import User

    from .parsing import ParsedMessage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
REOPEN_WINDOW = timedelta(days=14)
SENDER_RATE_LIMIT = 20  # messages per sender ...
SENDER_RATE_WINDOW = timedelta(minutes=10)  # ... in this window


class MessageTooLarge(Exception):
    """Refused before parsing (SMTP 552, HTTP 413)."""


def inbound_store(
    *,
    raw: bytes,
    transport: str,
    envelope_from: str = "",
    envelope_to: list[str] | None = None,
    authentication: dict[str, str] | None = None,
) -> InboundMessage:
    """Persist a raw message and queue its processing after commit.

    ``envelope_from`` is the sender the transport vouches for (SMTP MAIL FROM, the
    ESP's envelope sender); ``authentication`` the ESP's own SPF/DKIM/DMARC
    verdicts. Characters PostgreSQL refuses are taken out of both envelope fields
    (the raw bytes are stored as they came).
    """
    if len(raw) > settings.INBOUND_EMAIL_MAX_BYTES:
        raise MessageTooLarge(f"{len(raw)} bytes")
    with transaction.atomic():
        message = InboundMessage.objects.create(
            raw=raw,
            raw_sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            transport=db_safe(transport)[:30],
            envelope_from=db_safe(envelope_from)[:320],
            envelope_to=[db_safe(str(address)) for address in envelope_to or []],
            authentication={
                db_safe(str(key))[:20]: db_safe(str(value))[:40]
                for key, value in (authentication or {}).items()
            },
        )
        transaction.on_commit(functools.partial(_queue_processing, message.pk))
    logger.info("inbound %s stored via %s (%s bytes)", message.pk, transport, len(raw))
    return message


# Set while a processing task is queued and has not started: it will take every
# message stored before it starts, so they need no task of their own.
QUEUED_MARK = "notifications:inbound:task-queued"


def _queue_processing(inbound_id: int) -> None:
    """Queue a task for a stored message, unless a queued one will take it.

    A task costs the worker about 2.7 ms of CPU before it does anything, more
    than a reply processed in a batch; at a hundred messages a second, one each
    was a third of the worker's time. The mark lives in the shared cache: with a
    cache of this process only (the embedded set-up), every message gets its task.
    A cache that is down reads as no mark. A task lost with the mark set holds new
    ones back for ``INBOUND_TASK_MARK_SECONDS`` (0: a task per message), and the
    sweep finds what it missed.
    """
    from .tasks import process_inbound

    mark_seconds = settings.INBOUND_TASK_MARK_SECONDS
    if mark_seconds > 0 and _cache_is_shared():
        if cache.get(QUEUED_MARK) is not None:
            return
        cache.set(QUEUED_MARK, inbound_id, timeout=mark_seconds)
    enqueue(process_inbound, inbound_id)


def _cache_is_shared() -> bool:
    return not isinstance(cache, LocMemCache | DummyCache)


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
    with transaction.atomic():
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
        from .parsing import parse_message

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
    screening = _screen(message, parsed, duplicate_key)
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


def _has_our_domain(parsed: "ParsedMessage") -> bool:
    """Whether the Message-ID is one we made (no query needed)."""
    if not parsed.message_id:
        return False
    domain = parsed.message_id.strip("<>").rpartition("@")[2].lower()
    return domain == settings.SUPPORT_EMAIL_DOMAIN.lower()


@dataclass(frozen=True)
class _Screening:
    """What the other rows say about a message, in the order it is decided."""

    ours: bool  # a Message-ID of a notification we sent
    rate_limited: bool  # the sender passed SENDER_RATE_LIMIT in the window
    duplicate: bool  # a comment or ticket already carries the dedupe key


def _screen(message: InboundMessage, parsed: "ParsedMessage", key: str) -> _Screening:
    """Ask the three questions that read other rows in one query (four EXISTS).

    The sender match is case-insensitive, as addresses are, and served by the
    ``inbound_sender_ci`` index; asking whether a SENDER_RATE_LIMIT-th recent
    message exists stops the scan there, so a mailbox that loops with us costs no
    more than a quiet one. The duplicate check is only a shortcut: the unique
    constraints on both Message-ID columns still settle two deliveries racing
    (``IntegrityError`` in ``_route``).
    """
    false = Value(False, output_field=BooleanField())
    ours: Exists | Value = false
    if parsed.message_id:
        ours = Exists(
            EmailDelivery.objects.filter(message_id=_as_stored(parsed.message_id))
        )
    rate_limited: Exists | Value = false
    if parsed.from_address:
        # Only messages that became comments or tickets count: those were the
        # sender's own (the evidence vouched for them), so neither auto-replies
        # nor mail forged in their name can use up a customer's allowance.
        recent = (
            InboundMessage.objects.filter(
                from_address__iexact=parsed.from_address,
                received_at__gte=timezone.now() - SENDER_RATE_WINDOW,
                status=InboundStatus.PROCESSED,
            )
            .exclude(pk=message.pk)
            .order_by()
        )
        rate_limited = Exists(recent[SENDER_RATE_LIMIT - 1 :])
    ours_found, limited, comment_found, ticket_found = (
        InboundMessage.objects.filter(pk=message.pk)
        .values_list(
            ours,
            rate_limited,
            Exists(Comment.objects.filter(email_message_id=key)),
            Exists(Ticket.objects.filter(email_message_id=key)),
        )
        .get()
    )
    return _Screening(
        ours=ours_found,
        rate_limited=limited,
        duplicate=comment_found or ticket_found,
    )


def _as_stored(message_id: str) -> str:
    """A Message-ID as our deliveries store theirs: in angle brackets."""
    return f"<{message_id.strip('<>')}>"


def _dedupe_key(message: InboundMessage, parsed: "ParsedMessage") -> str:
    return (parsed.message_id or f"<sha256-{message.raw_sha256}>")[:998]


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


def inbound_sweep(*, now: datetime | None = None) -> list[int]:
    """Mark and return messages stored but never processed (broker down, worker
    killed).

    A message is returned once per ``SWEEP_REQUEUE_AFTER_SECONDS`` (``queued_at``),
    so a backlog is queued once; messages being processed (row locked) are skipped.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.INBOUND_STALE_AFTER_SECONDS)
    requeue_before = now - timedelta(seconds=settings.SWEEP_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        stale = list(
            InboundMessage.objects.filter(
                status=InboundStatus.RECEIVED, received_at__lt=stale_before
            )
            .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=requeue_before))
            .select_for_update(skip_locked=True)
            .order_by("received_at")
            .values_list("pk", flat=True)[:500]
        )
        InboundMessage.objects.filter(pk__in=stale).update(queued_at=now)
    return stale


def inbound_reprocess(*, inbound_id: int, actor: "User | None" = None) -> bool:
    """Put a quarantined, parked or ignored message back in the queue (the admin).

    With ``actor``, the decision's audit row is written in the same transaction.
    False if the message was not set aside (done, discarded or waiting already),
    so a second click does nothing.
    """
    from .models import InboundAction, InboundDecision

    with transaction.atomic():
        updated = InboundMessage.objects.filter(
            pk=inbound_id,
            status__in=[
                InboundStatus.QUARANTINED,
                InboundStatus.PARKED,
                InboundStatus.IGNORED,
            ],
        ).update(
            status=InboundStatus.RECEIVED,
            attempts=0,
            reason="",
            reason_code="",
            last_error="",
            queued_at=None,
        )
        if updated:
            from .tasks import process_inbound

            if actor is not None:
                InboundDecision.objects.create(
                    inbound_id=inbound_id, action=InboundAction.REPROCESS, actor=actor
                )
            enqueue_on_commit(process_inbound, inbound_id)
    return bool(updated)
