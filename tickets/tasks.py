from celery import shared_task

from . import services


@shared_task
def close_solved_tickets() -> int:
    """Close long-solved tickets; safe to run twice or concurrently (a bulk UPDATE)."""
    return services.tickets_close_solved()


@shared_task
def attachment_orphans_sweep() -> int:
    """Delete day-old stored files no attachment names (beat, hourly); idempotent."""
    return services.attachment_orphans_sweep()
