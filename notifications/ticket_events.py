"""Which ticket changes send mail, and to whom.

Called by tickets.services inside their transactions, so the delivery rows commit
with the change. Internal notes never mail customers.
"""

from collections.abc import Sequence

from tickets.choices import Status
from tickets.models import Comment, PriorityChange, Ticket

from .models import Event
from .recipients import (
    customer_reply_recipients_for,
    support_staff,
    ticket_watchers,
    ticket_watchers_for,
)
from .services import Notice, notification_enqueue, notifications_enqueue


def ticket_created(ticket: Ticket) -> None:
    notification_enqueue(
        event=Event.TICKET_CREATED,
        event_key=f"ticket:{ticket.pk}:created",
        recipients=[*ticket_watchers(ticket), *support_staff()],
        ticket=ticket,
    )


def comments_added(comments: Sequence[Comment]) -> None:
    """Tell the other side about public comments; customers' replies in bulk."""
    public = [comment for comment in comments if comment.is_public]
    # Each side's replies in the order they come: one query for each side.
    support_recipients = iter(
        ticket_watchers_for(
            [(c.ticket, {c.author_id}) for c in public if c.author.is_staff]
        )
    )
    customer_recipients = iter(
        customer_reply_recipients_for(
            [(c.ticket, c.author_id) for c in public if not c.author.is_staff]
        )
    )
    notices = []
    for comment in public:
        if comment.author.is_staff:
            event = Event.SUPPORT_REPLIED
            recipients = next(support_recipients)
        else:
            event = Event.CUSTOMER_REPLIED
            recipients = next(customer_recipients)
        notices.append(
            Notice(
                event,
                f"comment:{comment.pk}",
                recipients,
                ticket=comment.ticket,
                context={"comment_id": comment.pk},
            )
        )
    notifications_enqueue(notices)


def priority_changed(change: PriorityChange) -> None:
    notification_enqueue(
        event=Event.PRIORITY_CHANGED,
        event_key=f"priority_change:{change.pk}",
        recipients=ticket_watchers(change.ticket),
        ticket=change.ticket,
        context={"priority_change_id": change.pk},
    )


def status_changed(ticket: Ticket, *, by_user_id: int | None) -> None:
    """Tell the organisation when a ticket is solved or closed (not who did it)."""
    if ticket.status == Status.SOLVED and ticket.solved_at:
        event, moment = Event.TICKET_SOLVED, ticket.solved_at
    elif ticket.status == Status.CLOSED and ticket.closed_at:
        event, moment = Event.TICKET_CLOSED, ticket.closed_at
    else:
        return
    notification_enqueue(
        event=event,
        event_key=f"ticket:{ticket.pk}:{ticket.status}:{moment.timestamp():.0f}",
        recipients=ticket_watchers(ticket, exclude=[by_user_id] if by_user_id else []),
        ticket=ticket,
    )
