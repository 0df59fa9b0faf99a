"""Sequential, gapless ticket numbers."""

from django.db import transaction
from django.db.models import F

from .models import TicketCounter


def ticket_number_next() -> int:
    """Take the next number; call inside the transaction that creates the ticket.

    The UPDATE locks the counter row until that transaction ends, so concurrent
    creations queue for a moment and a rolled-back creation returns its number.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket_number_next() must run inside transaction.atomic().")
    if not TicketCounter.objects.filter(pk=1).update(value=F("value") + 1):
        TicketCounter.objects.get_or_create(pk=1, defaults={"value": 0})
        TicketCounter.objects.filter(pk=1).update(value=F("value") + 1)
    return TicketCounter.objects.values_list("value", flat=True).get(pk=1)
