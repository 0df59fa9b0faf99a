"""Opening a ticket: the input checked, the ticket and its files written."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import NotAllowed, ValidationFailed

from .. import events, lifecycle
from ..attachments import check_uploads
from ..categories import category_from_text
from ..choices import (
    Category,
    CommentSource,
    Deployment,
    Priority,
)
from ..markdown import render_markdown
from ..models import Ticket
from ..numbering import ticket_number_next
from ..selectors import contact_for_user
from .files import discard_files, store_attachments

logger = logging.getLogger(__name__)


SUBJECT_MAX_LENGTH = 200


@dataclass(frozen=True)
class TicketInput:
    """A new ticket; ``category`` "" means "read it from the text" (categories.py)."""

    subject: str
    description: str
    priority: int
    category: str
    deployment: str
    version_reported: str = ""


def _clean_ticket_input(data: TicketInput) -> TicketInput:
    subject = " ".join(data.subject.split())
    description = data.description.strip()
    if not subject:
        raise ValidationFailed(_("Give the ticket a subject."), field="subject")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValidationFailed(
            _("Keep the subject under %(n)d characters.") % {"n": SUBJECT_MAX_LENGTH},
            field="subject",
        )
    if not description:
        raise ValidationFailed(_("Describe the problem."), field="description")
    if data.priority not in Priority.values:
        raise ValidationFailed(_("Choose a priority from 0 to 4."), field="priority")
    category = data.category or category_from_text(subject, description)
    if category not in Category.values:
        raise ValidationFailed(_("Choose a category."), field="category")
    if data.deployment not in Deployment.values:
        raise ValidationFailed(_("Choose a deployment."), field="deployment")
    return TicketInput(
        subject=subject,
        description=description,
        priority=data.priority,
        category=category,
        deployment=data.deployment,
        version_reported=data.version_reported.strip()[:40],
    )


def ticket_create(
    *,
    requester: User,
    data: TicketInput,
    files: Sequence[UploadedFile] = (),
    source: str = CommentSource.PORTAL,
    email_message_id: str = "",
    follow_up_of: Ticket | None = None,
) -> Ticket:
    """Open a ticket for the requester's organisation.

    Only technical contacts may open tickets (the policy makes them the liaisons).
    Files are checked before anything is written; if the transaction fails, the
    files already stored are deleted, so nothing is half-saved.
    """
    contact = contact_for_user(requester)
    if contact is None or not contact.is_technical_contact:
        raise NotAllowed(
            _("Only your organisation's technical contacts can open tickets.")
        )
    data = _clean_ticket_input(data)
    uploads = check_uploads(files)
    stored: list[str] = []
    try:
        with transaction.atomic():
            now = timezone.now()
            ticket = Ticket.objects.create(
                number=ticket_number_next(),
                organization_id=contact.organization_id,
                requester=requester,
                subject=data.subject,
                description=data.description,
                description_html=render_markdown(data.description),
                priority=data.priority,
                category=data.category,
                deployment=data.deployment,
                version_reported=data.version_reported,
                version_support_ends_on=lifecycle.version_support_ends_on(
                    data.version_reported
                ),
                last_activity_at=now,
                email_message_id=email_message_id,
                follow_up_of=follow_up_of,
            )
            store_attachments(
                ticket=ticket,
                comment=None,
                uploader=requester,
                uploads=uploads,
                stored_names=stored,
            )
            events.publish(events.TicketCreated(ticket=ticket))
    except BaseException:
        discard_files(stored)
        raise
    logger.info("ticket created number=%s source=%s", ticket.number, source)
    return ticket
