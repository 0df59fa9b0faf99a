"""Which ticket and account changes send mail, and to whom.

Subscribed to the core's events in ``NotificationsConfig.ready``; they run inside
the publisher's transaction, so the delivery rows commit with the change (the
mail goes after commit). Internal notes never mail customers. Every delivery is
de-duplicated by its event key and recipient.
"""

from scalr_support.accounts import events as account_events
from scalr_support.common.events import Stage, batch_context_register, subscribe
from tickets import events
from tickets.choices import Status

from .models import Event
from .recipients import (
    customer_reply_recipients_for,
    support_staff,
    ticket_watchers,
    ticket_watchers_for,
)
from .services import (
    Notice,
    notification_enqueue,
    notifications_combined,
    notifications_enqueue,
)


def ticket_created(event: events.TicketCreated) -> None:
    ticket = event.ticket
    notification_enqueue(
        event=Event.TICKET_CREATED,
        event_key=f"ticket:{ticket.pk}:created",
        recipients=[*ticket_watchers(ticket), *support_staff()],
        ticket=ticket,
    )


def comments_added(event: events.CommentsAdded) -> None:
    """Tell the other side about public comments; customers' replies in bulk."""
    public = [comment for comment in event.comments if comment.is_public]
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
            kind = Event.SUPPORT_REPLIED
            recipients = next(support_recipients)
        else:
            kind = Event.CUSTOMER_REPLIED
            recipients = next(customer_recipients)
        notices.append(
            Notice(
                kind,
                f"comment:{comment.pk}",
                recipients,
                ticket=comment.ticket,
                context={"comment_id": comment.pk},
            )
        )
    notifications_enqueue(notices)


def priority_changed(event: events.PriorityChanged) -> None:
    change = event.change
    notification_enqueue(
        event=Event.PRIORITY_CHANGED,
        event_key=f"priority_change:{change.pk}",
        recipients=ticket_watchers(change.ticket),
        ticket=change.ticket,
        context={"priority_change_id": change.pk},
    )


def status_changed(event: events.StatusChanged) -> None:
    """Tell the organisation when a ticket is solved or closed (not who did it)."""
    ticket = event.ticket
    if ticket.status == Status.SOLVED and ticket.solved_at:
        kind, moment = Event.TICKET_SOLVED, ticket.solved_at
    elif ticket.status == Status.CLOSED and ticket.closed_at:
        kind, moment = Event.TICKET_CLOSED, ticket.closed_at
    else:
        return
    by_user_id = event.by_user_id
    notification_enqueue(
        event=kind,
        event_key=f"ticket:{ticket.pk}:{ticket.status}:{moment.timestamp():.0f}",
        recipients=ticket_watchers(ticket, exclude=[by_user_id] if by_user_id else []),
        ticket=ticket,
    )


def invitation_created(event: events.InvitationCreated) -> None:
    """Mail the invitation link; the only mail an inactive account receives."""
    notifications_enqueue(
        [
            Notice(
                Event.INVITATION,
                f"invitation:{event.invitation.pk}",
                [event.user],
                context={
                    "invitation_id": event.invitation.pk,
                    "organization": event.organization.name,
                    "invited_by": event.actor.display_name,
                },
                include_inactive=True,
            )
        ]
    )


def follower_added(event: events.FollowerAdded) -> None:
    follower = event.follower
    notification_enqueue(
        event=Event.FOLLOWER_ADDED,
        event_key=f"follower:{follower.pk}",
        recipients=[follower.user],
        ticket=follower.ticket,
        context={"added_by": event.actor.display_name},
    )


def password_reset_requested(event: account_events.PasswordResetRequested) -> None:
    notification_enqueue(
        event=Event.PASSWORD_RESET,
        event_key=f"password-reset:{event.request_key}",
        recipients=event.users,
    )


def connect() -> None:
    """Subscribe the handlers (from ``NotificationsConfig.ready``; idempotent)."""
    subscribe(events.TicketCreated, ticket_created, stage=Stage.NOTIFY)
    subscribe(events.CommentsAdded, comments_added, stage=Stage.NOTIFY)
    subscribe(events.PriorityChanged, priority_changed, stage=Stage.NOTIFY)
    subscribe(events.StatusChanged, status_changed, stage=Stage.NOTIFY)
    subscribe(events.InvitationCreated, invitation_created, stage=Stage.NOTIFY)
    subscribe(events.FollowerAdded, follower_added, stage=Stage.NOTIFY)
    subscribe(account_events.PasswordResetRequested, password_reset_requested)
    # One user action (a triage) is one email per recipient and ticket.
    batch_context_register(notifications_combined)
