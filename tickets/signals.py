"""Invalidate an organisation's cached portal fragments when its tickets change.

And the workspace's cached macros when a macro changes (``workspace.macros``).

Signals rather than calls in each service, because every writer (services, the SLA
engine, the admin, data migrations) must invalidate and none should have to know.
"""

from typing import Any

from django.db.models.signals import post_delete, post_save

from .cache import organization_changed
from .models import Attachment, Comment, Contact, PriorityChange, SupportSession, Ticket


def _ticket_changed(sender: type, instance: Ticket, **kwargs: Any) -> None:
    organization_changed(instance.organization_id)


def _child_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    ticket = instance._state.fields_cache.get("ticket")
    organization_id = (
        ticket.organization_id
        if ticket is not None
        else Ticket.objects.filter(pk=instance.ticket_id)
        .values_list("organization_id", flat=True)
        .first()
    )
    if organization_id is not None:
        organization_changed(organization_id)


def _contact_changed(sender: type, instance: Contact, **kwargs: Any) -> None:
    organization_changed(instance.organization_id)  # the workspace lists contacts


def connect() -> None:
    from scalr_support.accounts.models import User

    from .workspace import versions
    from .workspace.macros import macros_changed
    from .workspace.models import Macro, TicketAudit  # the workspace thread shows them

    for signal in (post_save, post_delete):
        signal.connect(macros_changed, sender=Macro, dispatch_uid=f"macros-{signal}")
    # A macro's assignee is set to null without a signal when the user is deleted.
    post_delete.connect(macros_changed, sender=User, dispatch_uid="macros-user")

    versions.connect()  # the queue's cached rows, options and saved views

    for signal in (post_save, post_delete):
        signal.connect(
            _ticket_changed, sender=Ticket, dispatch_uid=f"cache-ticket-{signal}"
        )
        signal.connect(
            _contact_changed, sender=Contact, dispatch_uid=f"cache-contact-{signal}"
        )
        for model in (Comment, PriorityChange, Attachment, SupportSession, TicketAudit):
            signal.connect(
                _child_changed,
                sender=model,
                dispatch_uid=f"cache-{model.__name__}-{signal}",
            )
