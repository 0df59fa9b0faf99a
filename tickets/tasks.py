from celery import shared_task

from . import services


@shared_task
def close_solved_tickets() -> int:
    """Close long-solved tickets; safe to run twice or concurrently (a bulk UPDATE)."""
    return services.tickets_close_solved()
