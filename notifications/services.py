"""The outbox: record deliveries with the change that causes them, send them after.

Delivery is at-least-once, de-duplicated by ``(event_key, recipient)``: a claimed
row is sent once unless the worker dies between the send and the mark, in which
case the sweep resends it after ``EMAIL_OUTBOX_STALE_CLAIM_SECONDS`` (the
documented crash window).
"""

import contextlib
import logging
import smtplib
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends import filebased
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from scalr_support.accounts.models import User
from scalr_support.common.retry import Backoff, rows_requeue
from scalr_support.common.tasks import enqueue_on_commit
from tickets.models import Ticket

from .messages import build_message
from .models import DeliveryStatus, EmailDelivery, Event, FailingAddress

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SWEEP_BATCH = 500
# 30 s after the first failure, doubling to at most an hour apart.
EMAIL_BACKOFF = Backoff(first=30, cap=3600)


def _stale_claim() -> timedelta:
    """How old a claim must be to belong to a dead worker (longer than a send)."""
    return timedelta(seconds=settings.EMAIL_OUTBOX_STALE_CLAIM_SECONDS)


@dataclass(frozen=True)
class Notice:
    """One event to tell people about: what happened, its key, and to whom."""

    event: str
    event_key: str
    recipients: Iterable[User]
    ticket: Ticket | None = None
    context: dict[str, Any] | None = None
    # Only for mail that activates an account (an invitation): inactive users
    # otherwise never get mail.
    include_inactive: bool = False


def notification_enqueue(
    *,
    event: str,
    event_key: str,
    recipients: Iterable[User],
    ticket: Ticket | None = None,
    context: dict[str, Any] | None = None,
) -> int:
    """``notifications_enqueue`` for one event."""
    return notifications_enqueue(
        [Notice(event, event_key, recipients, ticket=ticket, context=context)]
    )


_combined: ContextVar[list[Notice] | None] = ContextVar(
    "notices_combined", default=None
)


@contextlib.contextmanager
def notifications_combined() -> Iterator[None]:
    """Make one action's notices one email per recipient and ticket.

    An engineer's single save can reply, change the priority and solve the
    ticket; each step raises its own event, and without this each recipient got
    an email per step. Inside the block notices are held; when it ends (inside
    the caller's transaction, so the rows still commit with the change) each
    recipient keeps the first notice of each ticket that names them, and the
    later events are listed in its context (``also``) for the template to say.
    Nested blocks join the outermost. Nothing is recorded if the block raises.
    """
    if _combined.get() is not None:
        yield
        return
    token = _combined.set([])
    try:
        yield
        held = _combined.get() or []
    finally:
        _combined.reset(token)
    notifications_enqueue(merge_notices(held))


def merge_notices(notices: Sequence[Notice]) -> list[Notice]:
    """One notice per recipient and ticket: the first, with the later ones' events.

    Pure. A lead notice is split by which later events its recipients also had,
    so each group's context says exactly what else happened; the groups keep the
    lead's event key, which stays unique per recipient. Notices without a ticket
    are left as they are.
    """
    listed = [(n, [u for u in n.recipients]) for n in notices]
    merged: list[Notice] = []
    for index, (notice, users) in enumerate(listed):
        if notice.ticket is None:
            merged.append(notice)
            continue
        groups: dict[tuple[int, ...], list[User]] = {}
        for user in users:
            if any(
                earlier.ticket is not None
                and earlier.ticket.pk == notice.ticket.pk
                and any(u.pk == user.pk for u in earlier_users)
                for earlier, earlier_users in listed[:index]
            ):
                continue  # told in an earlier notice of this ticket
            later = tuple(
                position
                for position, (other, other_users) in enumerate(listed)
                if position > index
                and other.ticket is not None
                and other.ticket.pk == notice.ticket.pk
                and any(u.pk == user.pk for u in other_users)
            )
            groups.setdefault(later, []).append(user)
        for later, group in groups.items():
            context = dict(notice.context or {})
            if later:
                for position in later:
                    for key, value in (listed[position][0].context or {}).items():
                        context.setdefault(key, value)
                context["also"] = [listed[position][0].event for position in later]
            merged.append(replace(notice, recipients=group, context=context or None))
    return merged


def notifications_enqueue(notices: Sequence[Notice]) -> int:
    """Record one delivery per recipient in the caller's transaction; send on commit.

    Idempotent: the same ``event_key`` never mails the same person twice. All the
    events' rows are one INSERT, and each event is one task after commit. Returns
    how many deliveries were considered. Inside ``notifications_combined`` the
    notices are held and merged when the block ends.
    """
    held = _combined.get()
    if held is not None:
        listed = [(n, list(n.recipients)) for n in notices]
        held.extend(replace(n, recipients=users) for n, users in listed)
        return sum(len(users) for _n, users in listed)
    now = timezone.now()
    rows: list[EmailDelivery] = []
    queued = []
    for notice in notices:
        unique = {
            user.pk: user
            for user in notice.recipients
            if (user.is_active or notice.include_inactive) and user.email
        }
        rows.extend(
            EmailDelivery(
                event=notice.event,
                event_key=notice.event_key,
                recipient=user,
                to_address=user.email,
                ticket=notice.ticket,
                context=notice.context or {},
                next_attempt_at=now,
                message_id=make_msgid(domain=settings.SUPPORT_EMAIL_DOMAIN),
            )
            for user in unique.values()
        )
        if unique and notice.event_key not in queued:
            queued.append(notice.event_key)
    if not rows:
        return 0
    EmailDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    from .tasks import deliver_event

    for event_key in queued:
        enqueue_on_commit(deliver_event, event_key)
    return len(rows)


def deliveries_send_for_event(*, event_key: str) -> int:
    """Send every pending delivery of one event; returns how many were sent.

    The event's messages share one connection to the mail server (one SMTP
    session, or one HTTP session to the ESP): a reply on a busy ticket fans out
    to dozens of recipients, and a handshake per message was most of the cost.
    """
    ids = list(
        EmailDelivery.objects.filter(
            event_key=event_key, status=DeliveryStatus.PENDING
        ).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    connection = get_connection()
    if isinstance(connection, filebased.EmailBackend):
        # It writes one file per connection; var/mail/ keeps one message a file.
        return sum(delivery_send(delivery_id=delivery_id) for delivery_id in ids)
    try:
        return sum(
            delivery_send(delivery_id=delivery_id, connection=connection)
            for delivery_id in ids
        )
    finally:
        connection.close()


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the row for this worker; False if another has it or it is done."""
    return bool(
        EmailDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).update(
            status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    )


def _is_transient(error: Exception) -> bool:
    """Errors worth another try: the network and the server's 4xx 'try later'."""
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(
        error, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError
    ):
        return True
    status = getattr(error, "status_code", None)  # anymail's API errors
    if type(error).__module__.startswith("anymail"):
        return status is None or status == 429 or status >= 500
    return False


def delivery_send(
    *, delivery_id: int, connection: BaseEmailBackend | None = None
) -> bool:
    """Claim, send and mark one delivery. No transaction is open while sending.

    ``connection`` is an open-on-demand backend shared by the caller's batch; it
    is closed after a failure so the next message starts a fresh session.
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return False
    delivery = EmailDelivery.objects.select_related(
        "recipient", "ticket__organization", "ticket__requester"
    ).get(pk=delivery_id)
    if FailingAddress.objects.filter(address__iexact=delivery.to_address).exists():
        _finish(delivery, DeliveryStatus.SUPPRESSED, "address is bouncing")
        return False
    if not delivery.recipient.is_active and delivery.event != Event.INVITATION:
        # Deactivated since the row was written (an organisation admin did it).
        _finish(delivery, DeliveryStatus.SUPPRESSED, "recipient deactivated")
        return False
    try:
        message = build_message(delivery)
        if connection is None:
            with get_connection() as own:
                own.send_messages([message])
        else:
            connection.open()  # does nothing while the session is open
            connection.send_messages([message])
    except Exception as error:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
        _record_failure(delivery, error)
        return False
    _finish(delivery, DeliveryStatus.SENT, "")
    return True


def _finish(delivery: EmailDelivery, status: str, error: str) -> None:
    delivery.status = status
    delivery.last_error = error
    delivery.sent_at = timezone.now() if status == DeliveryStatus.SENT else None
    delivery.save(update_fields=["status", "last_error", "sent_at"])
    logger.info("delivery %s %s (event %s)", delivery.pk, status, delivery.event)


def _record_failure(delivery: EmailDelivery, error: Exception) -> None:
    transient = _is_transient(error)
    if transient and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = timezone.now() + EMAIL_BACKOFF.delay(
            delivery.attempts
        )
        delivery.queued_at = None  # the sweep queues it when the backoff is over
        delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
        delivery.save(
            update_fields=["status", "next_attempt_at", "queued_at", "last_error"]
        )
        logger.warning(
            "delivery %s failed (%s), retry %s",
            delivery.pk,
            type(error).__name__,
            delivery.attempts,
        )
        return
    logger.error("delivery %s failed for good: %s", delivery.pk, type(error).__name__)
    _finish(delivery, DeliveryStatus.FAILED, f"{type(error).__name__}: {error}"[:2000])


def deliveries_sweep(*, now: datetime | None = None) -> list[int]:
    """Release claims left by dead workers; mark and return pending rows to queue.

    Covers the broker being down when the change committed and a worker killed
    mid-send. A row is returned once per ``SWEEP_REQUEUE_AFTER_SECONDS`` (its
    ``queued_at``), so a backlog after an outage is queued once, not at every run;
    concurrent sweeps skip each other's rows, and sending claims each row anyway.
    """
    now = now or timezone.now()
    EmailDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - _stale_claim()
    ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, queued_at=None)
    return rows_requeue(
        EmailDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ),
        now=now,
        order_by="next_attempt_at",
        limit=SWEEP_BATCH,
    )


def failing_address_record(*, address: str, reason: str) -> None:
    """Mark an address as bouncing (idempotent)."""
    with transaction.atomic():
        FailingAddress.objects.update_or_create(
            address=address.lower(),
            defaults={"reason": reason[:2000], "bounced_at": timezone.now()},
        )


# What an ESP's delivery events say about an address (anymail's event types): mail
# to it bounced, the ESP refuses it (its own suppression list, an invalid address)
# or its owner reported our mail as spam. Either way, mailing it again does harm;
# support can clear the address in the admin.
_ESP_FAILURES = {
    "bounced": "bounced",
    "rejected": "refused by the ESP",
    "complained": "reported as spam",
}


def esp_delivery_event_record(
    *, esp: str, event_type: str, recipient: str, detail: str = ""
) -> bool:
    """Mark the recipient as failing when an ESP reports a bounce, refusal or
    complaint; other events (delivered, opened, deferred, ...) change nothing.

    Returns whether the address is now marked. For mail sent through an ESP these
    reports are the bounces: the ESP receives the DSNs, not our inbound address.
    """
    what = _ESP_FAILURES.get(event_type)
    if what is None or not recipient or "@" not in recipient:
        return False
    reason = f"{esp}: {what}" + (f" ({detail})" if detail else "")
    failing_address_record(address=recipient.strip(), reason=reason)
    logger.info("%s reports an address %s; marked failing", esp, event_type)
    return True
