"""Messages put back in the queue: by the sweep, and by an operator in the admin."""

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from scalr_support.common.retry import rows_requeue
from scalr_support.common.tasks import enqueue_on_commit

from ..models import InboundMessage, InboundStatus

if TYPE_CHECKING:
    from scalr_support.accounts.models import User


logger = logging.getLogger(__name__)


SWEEP_BATCH = 500


def inbound_sweep(*, now: datetime | None = None) -> list[int]:
    """Mark and return messages stored but never processed (broker down, worker
    killed).

    A message is returned once per ``SWEEP_REQUEUE_AFTER_SECONDS`` (``queued_at``),
    so a backlog is queued once; messages being processed (row locked) are skipped.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.INBOUND_STALE_AFTER_SECONDS)
    return rows_requeue(
        InboundMessage.objects.filter(
            status=InboundStatus.RECEIVED, received_at__lt=stale_before
        ),
        now=now,
        order_by="received_at",
        limit=SWEEP_BATCH,
    )


def inbound_reprocess(*, inbound_id: int, actor: "User | None" = None) -> bool:
    """Put a quarantined, parked or ignored message back in the queue (the admin).

    With ``actor``, the decision's audit row is written in the same transaction.
    False if the message was not set aside (done, discarded or waiting already),
    so a second click does nothing.
    """
    from ..models import InboundAction, InboundDecision

    with transaction.atomic(durable=True):
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
            from ..tasks import process_inbound

            if actor is not None:
                InboundDecision.objects.create(
                    inbound_id=inbound_id, action=InboundAction.REPROCESS, actor=actor
                )
            enqueue_on_commit(process_inbound, inbound_id)
    return bool(updated)
