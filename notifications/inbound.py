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
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import BooleanField, Case, Count, Exists, F, Q, Value, When
from django.db.models.functions import Upper
from django.utils import timezone

from scalr_support.common.errors import ServiceError, ValidationFailed
from scalr_support.common.tasks import enqueue, enqueue_on_commit
from tickets import services as ticket_services
from tickets.attachments import check_uploads
from tickets.choices import CommentSource, Priority, Status
from tickets.models import Comment, Ticket

from . import threading
from .models import EmailDelivery, InboundMessage, InboundStatus
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
) -> InboundMessage:
    """Persist a raw message and queue its processing after commit."""
    if len(raw) > settings.INBOUND_EMAIL_MAX_BYTES:
        raise MessageTooLarge(f"{len(raw)} bytes")
    with transaction.atomic():
        message = InboundMessage.objects.create(
            raw=raw,
            raw_sha256=hashlib.sha256(raw).hexdigest(),
            size=len(raw),
            transport=transport[:30],
            envelope_from=envelope_from[:320],
            envelope_to=list(envelope_to or []),
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
    """``inbound_process`` once the attempt is counted."""
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
            message.reason = (
                f"Processing failed {MAX_ATTEMPTS} times; parked for a person."
            )
            message.save(update_fields=["status", "reason"])
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
        status, reason = _route(message, parsed)
        message.status = status
        message.reason = reason
        message.processed_at = timezone.now()
        message.save(update_fields=_PROCESSED_FIELDS)
    logger.info("inbound %s %s", inbound_id, status)
    return status


# What processing writes on a stored message: its own, and the outcome.
_PER_MESSAGE_FIELDS = ["message_id", "from_address", "subject", "ticket", "comment"]
_PROCESSED_FIELDS = [*_PER_MESSAGE_FIELDS, "status", "reason", "processed_at"]


def _note_headers(message: InboundMessage, parsed: "ParsedMessage") -> None:
    message.message_id = (parsed.message_id or "")[:998]
    message.from_address = (parsed.from_address or "")[:320]
    message.subject = (parsed.subject or "")[:998]


# --- many at once ---------------------------------------------------------------------


def inbound_process_waiting(*, inbound_id: int | None) -> list[str | None]:
    """Process a stored message and the ones waiting behind it, plain replies at once.

    The task's entry point. Under load, messages queue up faster than one at a
    time can keep up with (a dozen statements each); here the waiting ones, up to
    ``BATCH_SIZE``, are taken together. The leading run of plain replies (see
    ``_plain_replies``) becomes comments through ``replies_create`` in one
    transaction, a statement per step for all of them; every message after it
    goes through the single path in arrival order, which gives each refusal its
    reason. A message tried before is never batched, so one that kills its worker
    is soon processed alone and parked, and takes no neighbours with it. Then it
    takes the messages still waiting, batch after batch, until none are left (or
    ``BATCHES_PER_TASK``, when it queues a task to go on): a queued task takes
    every message stored before it starts, which lets ``_queue_processing`` queue
    fewer tasks. ``inbound_id`` None: only those. Returns the final status of each
    message it took (None: another worker finished it first).
    """
    cache.delete(QUEUED_MARK)  # a message stored from now on queues a new task
    statuses: list[str | None] = []
    if inbound_id is not None and _count_attempt(inbound_id):
        batch = _claim_waiting(inbound_id)
        statuses += _process_batch(batch) if batch else [_process_one(inbound_id)]
    for _ in range(BATCHES_PER_TASK):
        batch = _claim_waiting(None)
        if not batch:
            return statuses
        statuses += _process_batch(batch)
    from .tasks import process_inbound

    enqueue(process_inbound, None)  # more are waiting: a turn for other tasks first
    return statuses


BATCH_SIZE = 50
BATCHES_PER_TASK = 20


def _process_batch(ids: list[int]) -> list[str | None]:
    statuses, rest = _process_plain_replies(ids)
    return statuses + [_process_one(pk) for pk in rest]


def _claim_waiting(inbound_id: int | None) -> list[int]:
    """This message on its first attempt, and waiting ones never tried, in order.

    Counts an attempt on the others (this one's is counted); the count commits at
    once, outside the processing transaction, as ``_count_attempt``'s does. Rows
    another worker holds are skipped. Empty if this message was tried before or
    is held (then ``_process_one`` waits for it); ``inbound_id`` None: only the
    waiting ones.
    """
    waiting = Q(attempts=0)
    order: list[Case | str] = ["pk"]
    if inbound_id is not None:
        waiting |= Q(pk=inbound_id, attempts=1)
        order.insert(0, Case(When(pk=inbound_id, then=0), default=1))
    with transaction.atomic():
        ids = list(
            InboundMessage.objects.select_for_update(skip_locked=True)
            .filter(waiting, status=InboundStatus.RECEIVED)
            .order_by(*order)
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if inbound_id is not None and inbound_id not in ids:
            return []
        others = [pk for pk in ids if pk != inbound_id]  # its own attempt is counted
        InboundMessage.objects.filter(pk__in=others).update(attempts=F("attempts") + 1)
    return sorted(ids)


def _process_plain_replies(ids: list[int]) -> tuple[list[str | None], list[int]]:
    """Apply the leading plain replies together; return their statuses and the rest.

    The claimed rows are locked waiting, in id order, as ``_process_one`` locks
    its row: none is dropped, and one another worker finished is left out. Any
    database or service error (a duplicate delivered concurrently, say) rolls the
    batch back, and every message goes the single way.
    """
    from .parsing import parse_message

    try:
        with transaction.atomic():
            messages = list(
                InboundMessage.objects.select_for_update()
                .filter(pk__in=ids, status=InboundStatus.RECEIVED)
                .order_by("pk")
            )
            parsed = [
                parse_message(bytes(m.raw), envelope_recipients=m.envelope_to)
                for m in messages
            ]
            replies = _plain_replies(messages, parsed)
            comments = ticket_services.replies_create(replies)
            done = messages[: len(comments)]
            for message, parsed_message, comment in zip(
                done, parsed[: len(done)], comments, strict=True
            ):
                _note_headers(message, parsed_message)
                message.ticket = comment.ticket
                message.comment = comment
            InboundMessage.objects.bulk_update(done, _PER_MESSAGE_FIELDS)
            InboundMessage.objects.filter(pk__in=[m.pk for m in done]).update(
                status=InboundStatus.PROCESSED, reason="", processed_at=timezone.now()
            )
    except (DatabaseError, ServiceError) as error:
        logger.warning("inbound batch %s failed (%r); one at a time", ids, error)
        return [], ids
    for message in done:
        logger.info("inbound %s %s", message.pk, InboundStatus.PROCESSED)
    return [InboundStatus.PROCESSED] * len(done), [m.pk for m in messages[len(done) :]]


def _plain_replies(
    messages: list[InboundMessage], parsed: list["ParsedMessage"]
) -> list[ticket_services.Reply]:
    """The leading plain replies, as comments to add; their tickets locked.

    Plain: written by a person, not one of ours, with a reply token that verifies
    and names its sender, new text and no attachments, on a ticket the sender sees
    that is not closed, neither a duplicate nor over the sender's rate limit, and
    the only sender on its ticket in the batch. Whatever is unusual about a
    message is the single path's to decide, with its reason; the run stops there
    so that messages keep their order.
    """
    run = 0
    while run < len(messages) and _looks_plain(parsed[run]):
        run += 1
    messages, parsed = messages[:run], parsed[:run]
    keys = [_dedupe_key(m, p) for m, p in zip(messages, parsed, strict=True)]
    run = _unscreened_run(messages, parsed, keys)
    destinations = threading.token_destinations(
        [
            (p, m.envelope_from)
            for m, p in zip(messages[:run], parsed[:run], strict=True)
        ]
    )
    replies = []
    for destination, parsed_message, key in zip(
        destinations, parsed, keys, strict=False
    ):
        if (
            destination is None
            or destination.ticket is None
            or destination.ticket.status == Status.CLOSED
        ):
            break
        replies.append(
            ticket_services.Reply(
                ticket=destination.ticket,
                author=destination.author,
                body=_body(parsed_message, []),
                source=CommentSource.EMAIL,
                email_message_id=key,
            )
        )
    return replies


def _looks_plain(parsed: "ParsedMessage") -> bool:
    """What a message must be, on its own, to be a plain reply."""
    return (
        not parsed.machine_generated
        and not _has_our_domain(parsed)
        and bool(parsed.reply_tokens)
        and not parsed.cc  # copied colleagues may become followers: single path
        and not parsed.attachments
        and bool(_body(parsed, []))
        and not any(defect.startswith("ParseError") for defect in parsed.defects)
    )


def _unscreened_run(
    messages: list[InboundMessage], parsed: list["ParsedMessage"], keys: list[str]
) -> int:
    """How many leading messages pass ``_screen``'s questions, asked for all at once.

    Not one of our notifications, not a duplicate (stored, or earlier in the run),
    and the sender under the rate limit counting the run's earlier messages.
    """
    ours = set(
        EmailDelivery.objects.filter(
            message_id__in=[_as_stored(p.message_id) for p in parsed if p.message_id]
        ).values_list("message_id", flat=True)
    )
    taken = set(
        Comment.objects.filter(email_message_id__in=keys).values_list(
            "email_message_id", flat=True
        )
    ) | set(
        Ticket.objects.filter(email_message_id__in=keys).values_list(
            "email_message_id", flat=True
        )
    )
    senders = {p.from_address.upper() for p in parsed if p.from_address}
    recent = Counter(
        dict(
            InboundMessage.objects.annotate(sender=Upper("from_address"))
            .filter(
                sender__in=senders,
                received_at__gte=timezone.now() - SENDER_RATE_WINDOW,
            )
            .exclude(pk__in=[m.pk for m in messages])
            .values("sender")
            .annotate(n=Count("pk"))
            .values_list("sender", "n")
        )
    )
    for n, (p, key) in enumerate(zip(parsed, keys, strict=True)):
        sender = p.from_address.upper()
        if (
            (p.message_id and _as_stored(p.message_id) in ours)
            or key in taken
            or recent[sender] >= SENDER_RATE_LIMIT
        ):
            return n
        taken.add(key)
        recent[sender] += 1
    return len(parsed)


def _route(message: InboundMessage, parsed: "ParsedMessage") -> tuple[str, str]:
    """Decide what the message is and apply it; returns (status, reason)."""
    if parsed.bounce:
        for address in parsed.bounced_recipients:
            failing_address_record(
                address=address, reason=f"bounce in inbound #{message.pk}"
            )
        return InboundStatus.IGNORED, "Bounce (delivery status notification)."
    if parsed.auto_reply:
        return InboundStatus.IGNORED, "Automatic reply."
    if parsed.report:
        return (
            InboundStatus.IGNORED,
            "Automatic report (feedback, receipt or delivery notice).",
        )
    if _has_our_domain(parsed):
        return InboundStatus.IGNORED, "One of our own messages came back."
    duplicate_key = _dedupe_key(message, parsed)
    screening = _screen(message, parsed, duplicate_key)
    if screening.ours:
        return InboundStatus.IGNORED, "One of our own messages came back."
    if screening.rate_limited:
        return (
            InboundStatus.QUARANTINED,
            "Too many messages from this sender; rate limited.",
        )
    if screening.duplicate:
        return InboundStatus.IGNORED, "Duplicate of a message already added."
    try:
        destination = destination_for(parsed, envelope_from=message.envelope_from)
        comment = _apply(destination, parsed, duplicate_key)
    except SenderRefused as refused:
        return InboundStatus.QUARANTINED, refused.message
    except IntegrityError:
        return InboundStatus.IGNORED, "Duplicate of a message added concurrently."
    except ServiceError as error:
        return InboundStatus.QUARANTINED, error.message
    message.ticket = comment.ticket if isinstance(comment, Comment) else comment
    message.comment = comment if isinstance(comment, Comment) else None
    return InboundStatus.PROCESSED, ""


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
        recent = (
            InboundMessage.objects.filter(
                from_address__iexact=parsed.from_address,
                received_at__gte=timezone.now() - SENDER_RATE_WINDOW,
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


def _uploads(parsed: "ParsedMessage") -> tuple[list[SimpleUploadedFile], list[str]]:
    """Keep the attachments that pass the portal's checks; name the ones that don't."""
    kept: list[SimpleUploadedFile] = []
    refused: list[str] = []
    for item in parsed.attachments:
        upload = SimpleUploadedFile(
            item.filename or "attachment", item.content, item.content_type
        )
        try:
            check_uploads([upload], already_attached=len(kept))
        except ValidationFailed as error:
            refused.append(error.message)
            continue
        kept.append(upload)
    return kept, refused


def _body(parsed: "ParsedMessage", refused: list[str]) -> str:
    body = (parsed.reply_text or "").strip()
    if refused:
        notes = "\n".join(f"- {reason}" for reason in refused)
        body = f"{body}\n\n_Attachments not added:_\n{notes}".strip()
    return body


def _apply(
    destination: Destination, parsed: "ParsedMessage", key: str
) -> Comment | Ticket:
    uploads, refused = _uploads(parsed)
    body = _body(parsed, refused)
    if not body and not uploads:
        raise SenderRefused("The message has no new text and no attachments.")
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


def inbound_reprocess(*, inbound_id: int) -> None:
    """Put a quarantined or parked message back in the queue (from the admin)."""
    with transaction.atomic():
        updated = InboundMessage.objects.filter(
            pk=inbound_id,
            status__in=[
                InboundStatus.QUARANTINED,
                InboundStatus.PARKED,
                InboundStatus.IGNORED,
            ],
        ).update(status=InboundStatus.RECEIVED, attempts=0, reason="", queued_at=None)
        if updated:
            from .tasks import process_inbound

            enqueue_on_commit(process_inbound, inbound_id)
