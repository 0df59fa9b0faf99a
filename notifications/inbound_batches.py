"""Waiting inbound messages taken together: the leading plain replies in one go.

Under load, messages queue up faster than one at a time can keep up with (a
dozen statements each); here the waiting ones, up to ``BATCH_SIZE``, are taken
together. The rules are the single path's (``inbound``): the same sender rule
(``threading.token_sender_refusal``) and the same screening function
(``inbound.screening.messages_screen``: our own mail, rate limit, duplicates),
asked for all of the run at once; whatever is unusual about a message is left to the
single path, in arrival order, which gives each refusal its reason.
"""

import logging
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from scalr_support.common.tasks import enqueue
from tickets import services as ticket_services
from tickets.choices import CommentSource, Status

from . import threading
from .inbound.apply import _body
from .inbound.processing import (
    _PER_MESSAGE_FIELDS,
    _count_attempt,
    _note_headers,
    _process_one,
    evidence_of,
)
from .inbound.screening import _dedupe_key, _has_our_domain, messages_screen
from .inbound.store import QUEUED_MARK
from .models import InboundMessage, InboundStatus

if TYPE_CHECKING:
    from .parsing import ParsedMessage

logger = logging.getLogger(__name__)


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
    with transaction.atomic(durable=True):
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
        with transaction.atomic(durable=True):
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
                status=InboundStatus.PROCESSED,
                reason="",
                reason_code="",
                processed_at=timezone.now(),
            )
    except SoftTimeLimitExceeded:
        raise  # the task's time is up: the rest wait for the next task
    except Exception as error:  # any failure: each message alone
        # A database or service error (a duplicate delivered concurrently) or a
        # bug a message triggers: the batch is rolled back, and the single path
        # decides every message, records what fails and parks it alone.
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
    run = next(
        (
            n
            for n, screening in enumerate(messages_screen(messages, parsed, keys))
            if not screening.passed
        ),
        len(messages),
    )
    destinations = threading.token_destinations(
        [
            (p, evidence_of(m, p))
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
                body=_body(parsed_message, ""),
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
        and bool(_body(parsed, ""))
        and not any(defect.startswith("ParseError") for defect in parsed.defects)
    )
