"""Hand recorded SLA transitions to the email outbox (notifications app).

At-risk goes to the assignee, or to every support engineer while the ticket is
unassigned; a breach goes to the assignee and the support managers. Called inside
the transaction that records the transitions, so the delivery rows commit with
them; the email app sends after commit, de-duplicated by ``sla_transition:<id>``.
"""

from __future__ import annotations

from collections.abc import Iterable

from notifications.models import Event
from notifications.recipients import support_managers, support_staff
from notifications.services import notification_enqueue
from scalr_support.accounts.models import User

from .models import SlaTransition, TransitionKind


def transitions_notify(transitions: Iterable[SlaTransition]) -> list[int]:
    """Queue one notification per transition; return the ids that were queued.

    The staff lists are read once per call, not once per transition, so a sweep
    that records many transitions stays at a few queries per transition.
    """
    transitions = list(transitions)
    if not transitions:
        return []
    staff: list[User] | None = None
    managers: list[User] | None = None
    queued = []
    for transition in transitions:
        ticket = transition.clock.ticket
        assignee = ticket.assignee if ticket.assignee_id else None
        if assignee is not None and not assignee.is_active:
            assignee = None
        if transition.kind == TransitionKind.AT_RISK:
            if assignee is not None:
                recipients = [assignee]
            else:
                staff = staff if staff is not None else list(support_staff())
                recipients = staff
            event = Event.SLA_AT_RISK
        else:
            managers = managers if managers is not None else list(support_managers())
            recipients = [*([assignee] if assignee else []), *managers]
            event = Event.SLA_BREACHED
        notification_enqueue(
            event=event,
            event_key=f"sla_transition:{transition.pk}",
            recipients=recipients,
            ticket=ticket,
            context={
                "due_at": f"{transition.clock.due_at:%Y-%m-%d %H:%M}",
                "clock": str(transition.clock.get_kind_display()),
                "transition": str(transition.get_kind_display()),
                "transition_id": transition.pk,
            },
        )
        queued.append(transition.pk)
    return queued
