"""Replies and internal notes: one at a time or a batch (the email gateway)."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.bulk import update_by_value
from scalr_support.common.errors import InvalidTransition, NotAllowed, ValidationFailed

from .. import events
from ..attachments import check_uploads
from ..cache import organization_changed
from ..choices import (
    CommentSource,
    Status,
)
from ..markdown import render_markdown
from ..models import Comment, Ticket
from ..workspace import audit as workspace_audit
from ..workspace.models import TicketAudit
from .base import AUDIT_STATUS, apply_status, refresh, require_transaction
from .files import discard_files, store_attachments


def _status_after_comment(status: str, *, by_staff: bool) -> str:
    """Move the ticket along the way a help desk does when someone writes.

    Support answering hands the ball to the customer; the customer answering a
    waiting or solved ticket hands it back. On-hold and new tickets keep their
    status until support acts.
    """
    if by_staff:
        return (
            Status.WAITING_ON_CUSTOMER
            if status in (Status.NEW, Status.OPEN)
            else status
        )
    if status in (Status.WAITING_ON_CUSTOMER, Status.SOLVED, Status.CLOSED):
        return Status.OPEN
    return status


def _comment_new(
    ticket: Ticket,
    author: User,
    body: str,
    is_public: bool,
    source: str,
    email_message_id: str,
) -> Comment:
    """An unsaved comment of a stripped body, with its rendered HTML."""
    return Comment(
        ticket=ticket,
        author=author,
        body=body,
        body_html=render_markdown(body),
        is_public=is_public,
        source=source,
        email_message_id=email_message_id,
    )


def comment_create(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    is_public: bool = True,
    source: str = CommentSource.PORTAL,
    files: Sequence[UploadedFile] = (),
    email_message_id: str = "",
    reopen_closed: bool = False,
    ticket_locked: bool = False,
) -> Comment:
    """Add a public reply or (staff only) an internal note, with files.

    A customer cannot write on a closed ticket in the portal: a follow-up ticket
    carries the conversation on. Email replies soon after closing reopen it instead
    (``reopen_closed``). Internal notes change neither status nor the activity time
    customers see. ``email_message_id`` is unique, so one email is one comment.
    ``ticket_locked``: the caller read ``ticket`` with ``SELECT ... FOR UPDATE`` in
    the transaction it is still in (the email gateway does, through the access
    gate), so it is current and is written as it is instead of read again.
    """
    body = body.strip()
    if not body and not files:
        raise ValidationFailed(_("Write a comment or attach a file."), field="body")
    if not is_public and not author.is_staff:
        raise NotAllowed(_("Only support staff can write internal notes."))
    if ticket_locked:
        require_transaction()
    uploads = check_uploads(files)
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = (
                ticket
                if ticket_locked
                else Ticket.objects.select_for_update().get(pk=ticket.pk)
            )
            _check_writable(locked, author, reopen_closed=reopen_closed)
            comment = _comment_new(
                locked, author, body, is_public, source, email_message_id
            )
            comment.save(force_insert=True)
            store_attachments(
                ticket=locked,
                comment=comment,
                uploader=author,
                uploads=uploads,
                stored_names=stored,
            )
            fields = _tickets_follow([comment])[locked.pk]
            locked.save(update_fields=fields)
            _comments_announce([comment], {locked.pk: fields})
    except BaseException:
        discard_files(stored)
        raise
    refresh(ticket, locked)
    return comment


@dataclass(frozen=True)
class Reply:
    """A public comment without files, on a ticket its caller holds locked."""

    ticket: Ticket
    author: User
    body: str
    source: str
    email_message_id: str = ""


def replies_create(
    replies: Sequence[Reply], *, reopen_closed: bool = False
) -> list[Comment]:
    """Add many public comments at once, by the rules of ``comment_create``.

    For the email gateway, which turns a batch of waiting emails into comments in
    one transaction: the comments, their tickets, clocks and notifications take a
    statement or a few for the whole batch, where a reply at a time costs a dozen
    statements per reply. Replies on one ticket are applied in order. The caller
    holds every ticket locked (``SELECT ... FOR UPDATE``) in the open
    transaction, as with ``comment_create(ticket_locked=True)``.
    """
    require_transaction()
    comments = []
    for reply in replies:
        body = reply.body.strip()
        if not body:
            raise ValidationFailed(_("Write a comment or attach a file."), field="body")
        _check_writable(reply.ticket, reply.author, reopen_closed=reopen_closed)
        comments.append(
            _comment_new(
                reply.ticket,
                reply.author,
                body,
                True,
                reply.source,
                reply.email_message_id,
            )
        )
    if not comments:
        return []
    # One time for the batch: its tickets then share their new values, and
    # update_by_value writes them in a few statements.
    now = timezone.now()
    for comment in comments:
        comment.created_at = now
    Comment.objects.bulk_create(comments)
    fields = _tickets_follow(comments)
    tickets = {comment.ticket_id: comment.ticket for comment in comments}
    for ticket in tickets.values():
        ticket.updated_at = now  # a bulk write leaves auto_now fields alone
    update_by_value(
        list(tickets.values()), sorted({f for names in fields.values() for f in names})
    )
    # Bulk writes send no signals: invalidate the portal's fragments here.
    for organization_id in {ticket.organization_id for ticket in tickets.values()}:
        organization_changed(organization_id)
    _comments_announce(comments, fields)
    return comments


def _check_writable(ticket: Ticket, author: User, *, reopen_closed: bool) -> None:
    if ticket.status == Status.CLOSED and not (author.is_staff or reopen_closed):
        raise InvalidTransition(
            _("This ticket is closed. Open a new ticket to continue.")
        )


def _tickets_follow(comments: Sequence[Comment]) -> dict[int, list[str]]:
    """Move each comment's ticket along, in order; return the fields to save.

    A public comment is activity and may hand the ball to the other side; the SLA
    clocks start or stop with it. The fields come back by ticket id, for one
    save of each ticket.
    """
    fields: dict[int, list[str]] = {}
    audit: list[TicketAudit] = []  # the status changes, saved in one statement
    for comment in comments:
        ticket = comment.ticket
        changed = fields.setdefault(ticket.pk, ["updated_at"])
        if not comment.is_public:
            continue
        ticket.last_activity_at = comment.created_at
        if "last_activity_at" not in changed:
            changed.append("last_activity_at")
        status = _status_after_comment(ticket.status, by_staff=comment.author.is_staff)
        if status != ticket.status:
            before = workspace_audit.snapshot(ticket)
            apply_status(ticket, status, comment.created_at, changed)
            audit.extend(
                workspace_audit.audit_rows(before, ticket, comment.author, AUDIT_STATUS)
            )
    events.publish(events.CommentsWritten(comments=comments, save_with=fields))
    workspace_audit.audit_save(audit)
    return fields


def _comments_announce(
    comments: Sequence[Comment], fields: dict[int, list[str]]
) -> None:
    """Queue the notifications of new comments and of the status they changed."""
    events.publish(events.CommentsAdded(comments=comments))
    last_changes = {c.ticket_id: c for c in comments if "status" in fields[c.ticket_id]}
    for comment in last_changes.values():
        events.publish(
            events.StatusChanged(ticket=comment.ticket, by_user_id=comment.author_id)
        )
