"""Celery entry points of maintenance; each only calls services."""

from celery import shared_task

from . import services


@shared_task(soft_time_limit=90, time_limit=120)
def announcements_sweep() -> int:
    """Post the Slack announcements that are due (beat, every 15 s).

    At most once per (window, phase): rows are unique per (window, phase) and each
    is claimed before Slack is called, so overlapping sweeps, a redelivered task
    or a retry after a timeout find nothing left to claim. Returns how many
    announcements this run claimed.
    """
    claimed = 0
    for announcement_id in services.announcements_sweep():
        if services.announcement_send(announcement_id=announcement_id) is not None:
            claimed += 1
    return claimed


@shared_task
def windows_materialise() -> int:
    """Keep windows materialised 8 weeks ahead (beat, hourly); idempotent."""
    return services.windows_materialise().created


@shared_task
def maintenance_reminders() -> int:
    """Queue the day-before emails (beat); de-duplicated by the outbox key."""
    return services.reminders_enqueue()
