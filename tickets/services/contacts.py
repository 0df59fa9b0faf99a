"""A contact's own settings."""

from ..models import Contact


def contact_notifications_set(
    *, contact: Contact, organization_tickets: bool
) -> Contact:
    """Follow (or stop following) the organisation's tickets by email.

    Mail about the contact's own tickets is always sent: they are the requester.
    """
    contact.notify_organization_tickets = organization_tickets
    contact.save(update_fields=["notify_organization_tickets"])
    return contact
