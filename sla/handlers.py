"""The SLA clocks follow the tickets: started, stopped and recomputed on events.

Subscribed in ``SlaConfig.ready`` at the ``STATE`` stage, so a clock is set
before any notification of the same event (which shows its due time) is written.
They run in the ticket write's transaction, with the ticket locked.
"""

from scalr_support.common.events import Stage, subscribe
from tickets import events

from . import services


def ticket_created(event: events.TicketCreated) -> None:
    services.response_clock_start_first(ticket=event.ticket)


def comments_written(event: events.CommentsWritten) -> None:
    services.response_clocks_handle_comments(event.comments, save_with=event.save_with)


def priority_changed(event: events.PriorityChanged) -> None:
    services.response_clock_reprioritise(
        ticket=event.change.ticket, change=event.change
    )


def connect() -> None:
    """Subscribe the handlers (from ``SlaConfig.ready``; idempotent)."""
    subscribe(events.TicketCreated, ticket_created, stage=Stage.STATE)
    subscribe(events.CommentsWritten, comments_written, stage=Stage.STATE)
    subscribe(events.PriorityChanged, priority_changed, stage=Stage.STATE)
