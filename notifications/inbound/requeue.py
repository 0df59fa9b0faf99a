"""Messages put back in the queue: by the sweep, and by an operator in the admin."""

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from scalr_support.common.tasks import enqueue_on_commit

from ..models import InboundMessage, InboundStatus

if TYPE_CHECKING:
    from scalr_support.accounts.models import User


logger = logging.getLogger(__name__)


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
    from ..models import InboundAction, InboundDecision

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
            from ..tasks import process_inbound

            if actor is not None:
                InboundDecision.objects.create(
                    inbound_id=inbound_id, action=InboundAction.REPROCESS, actor=actor
                )
            enqueue_on_commit(process_inbound, inbound_id)
    return bool(updated)
