"""Which ticket changes send mail, and to whom.

Called by tickets.services inside their transactions, so the delivery rows commit
with the change. Internal notes never mail customers.
"""

from tickets.choices import Status
from tickets.models import Comment, PriorityChange, Ticket

from .models import Event
from .recipients import customer_reply_recipients, support_staff, ticket_watchers
from .services import notification_enqueue


def ticket_created(ticket: Ticket) -> None:
    notification_enqueue(
        event=Event.TICKET_CREATED,
        event_key=f"ticket:{ticket.pk}:created",
        recipients=[*ticket_watchers(ticket), *support_staff()],
        ticket=ticket,
    )


def comment_added(comment: Comment) -> None:
    if not comment.is_public:
        return
    ticket = comment.ticket
    if comment.author.is_staff:
        event = Event.SUPPORT_REPLIED
        recipients = ticket_watchers(ticket, exclude=[comment.author_id])
    else:
        event = Event.CUSTOMER_REPLIED
        recipients = customer_reply_recipients(ticket, author_id=comment.author_id)
    notification_enqueue(
        event=event,
        event_key=f"comment:{comment.pk}",
        recipients=recipients,
        ticket=ticket,
        context={"comment_id": comment.pk},
    )


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
