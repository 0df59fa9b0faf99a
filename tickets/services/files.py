"""Attachments: stored with their row, deleted if it rolls back, orphans swept."""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import InvalidTransition, NotAllowed, ValidationFailed

from ..attachments import CheckedUpload, check_uploads
from ..choices import Status
from ..models import Attachment, Comment, Ticket
from .base import refresh

logger = logging.getLogger(__name__)


def store_attachments(
    *,
    ticket: Ticket,
    comment: Comment | None,
    uploader: User,
    uploads: list[CheckedUpload],
    stored_names: list[str],
) -> None:
    """Write files and their rows; record each stored name for clean-up on failure."""
    for item in uploads:
        attachment = Attachment(
            ticket=ticket,
            comment=comment,
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            uploaded_by=uploader,
        )
        attachment.file.save(item.filename, item.upload, save=False)
        stored_names.append(str(attachment.file.name))  # set by save()
        attachment.save()


def discard_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def attachment_add(
    *,
    ticket: Ticket,
    uploader: User,
    files: Sequence[UploadedFile],
    comment: Comment | None = None,
) -> list[Attachment]:
    """Attach files to a ticket (beside its description) or to one of its comments.

    Customers add files to their organisation's open tickets and to their own
    comments; staff to any comment, internal notes included. Files on the ticket
    or on a public comment count as activity; on an internal note they do not.
    The limits count the files already there. As in ``ticket_create``, files
    stored before a failure are deleted.
    """
    if not files:
        raise ValidationFailed(_("Attach at least one file."), field="attachments")
    if comment is not None and comment.ticket_id != ticket.pk:
        raise ValidationFailed(_("No such comment on this ticket."), field="comment")
    if (
        comment is not None
        and not uploader.is_staff
        and comment.author_id != uploader.pk
    ):
        raise NotAllowed(_("You can add files only to your own comments."))
    stored: list[str] = []
    try:
        with transaction.atomic(durable=True):
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            if locked.status == Status.CLOSED and not uploader.is_staff:
                raise InvalidTransition(
                    _("This ticket is closed. Open a new ticket to continue.")
                )
            existing = Attachment.objects.filter(ticket=locked, comment=comment)
            uploads = check_uploads(files, already_attached=existing.count())
            store_attachments(
                ticket=locked,
                comment=comment,
                uploader=uploader,
                uploads=uploads,
                stored_names=stored,
            )
            fields = ["updated_at"]
            if comment is None or comment.is_public:
                locked.last_activity_at = timezone.now()
                fields.append("last_activity_at")
            locked.save(update_fields=fields)
    except BaseException:
        discard_files(stored)
        raise
    refresh(ticket, locked)
    return list(
        Attachment.objects.filter(ticket=locked, file__in=stored).order_by("id")
    )


ORPHAN_MIN_AGE = timedelta(hours=24)
ORPHAN_BATCH = 500


def _stored_attachment_files(folder: str = "attachments") -> list[str]:
    """Every file name under the attachment folder of the default storage."""
    if not default_storage.exists(folder):
        return []
    names: list[str] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        dirs, files = default_storage.listdir(current)
        pending.extend(f"{current}/{d}" for d in dirs)
        names.extend(f"{current}/{f}" for f in files)
    return sorted(names)


def attachment_orphans_sweep(*, now: datetime | None = None) -> int:
    """Delete stored files that no attachment row names, once they are a day old.

    Files are written before their row commits and deleted if it rolls back; a
    process killed in between leaves an orphan, and so can a restore (files copied
    after the database snapshot). Only files older than ``ORPHAN_MIN_AGE`` are
    considered, so a file whose row is still being written is never touched, and
    each batch is checked against the rows right before deleting: a referenced
    file is never deleted. Idempotent. Returns how many files were deleted.
    """
    now = now or timezone.now()
    cutoff = now - ORPHAN_MIN_AGE
    old = [
        name
        for name in _stored_attachment_files()
        if default_storage.get_modified_time(name) < cutoff
    ]
    deleted = 0
    for start in range(0, len(old), ORPHAN_BATCH):
        batch = old[start : start + ORPHAN_BATCH]
        referenced = set(
            Attachment.objects.filter(file__in=batch).values_list("file", flat=True)
        )
        for name in batch:
            if name not in referenced:
                default_storage.delete(name)
                deleted += 1
    if deleted:
        logger.warning("deleted %s orphaned attachment files", deleted)
    return deleted
