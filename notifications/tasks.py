"""Celery entry points of the email channel; each only calls a service."""

from celery import shared_task

from . import inbound, inbound_batches, services


@shared_task
def deliver_event(event_key: str) -> int:
    """Send an event's pending mail; a second delivery finds nothing left to claim."""
    return services.deliveries_send_for_event(event_key=event_key)


@shared_task
def send_delivery(delivery_id: int) -> bool:
    return services.delivery_send(delivery_id=delivery_id)


@shared_task
def notifications_sweep() -> int:
    """Resend what the broker or a dead worker dropped (beat, every 30 s)."""
    due = services.deliveries_sweep()
    for delivery_id in due:
        send_delivery.delay(delivery_id)
    return len(due)


@shared_task
def process_inbound(inbound_id: int | None) -> list[str | None]:
    """Process a stored email and those waiting (None: only those); a second
    delivery finds it done."""
    return inbound_batches.inbound_process_waiting(inbound_id=inbound_id)


@shared_task
def inbound_sweep() -> int:
    """Queue stored emails nobody processed (broker down, worker killed)."""
    stale = inbound.inbound_sweep()
    for inbound_id in stale:
        process_inbound.delay(inbound_id)
    return len(stale)
