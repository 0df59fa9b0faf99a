"""Celery entry points of the SLA engine; each only calls services."""

from celery import shared_task

from . import services


@shared_task
def sla_sweep() -> int:
    """Record the at-risk and breach crossings due now (beat, every 30 s).

    Safe to deliver twice or to run concurrently: each transition is recorded once
    (unique per clock and kind) and a second run finds nothing left to record. It
    then queues any notification still waiting, which catches a lost ``sla_notify``.
    """
    recorded = services.sla_transitions_record()
    services.sla_notifications_queue()
    return recorded


@shared_task
def sla_notify() -> int:
    """Queue the emails of recorded transitions (sent on commit by the sweep).

    At-least-once delivery, de-duplicated by the transition's ``notified_at`` mark
    and the email outbox's unique (``sla_transition:<id>``, recipient) pair.
    """
    return services.sla_notifications_queue()
