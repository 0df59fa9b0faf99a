"""Every write to tickets, comments and attachments.

Each function is one user-visible action: it checks the business rules, writes in
one transaction (row-locking the ticket for read-modify-write) and leaves side
effects to ``transaction.on_commit``.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.bulk import update_by_value
from scalr_support.common.errors import InvalidTransition, NotAllowed, ValidationFailed

from . import events, lifecycle
from .attachments import CheckedUpload, check_uploads
from .cache import organization_changed
from .categories import category_from_text
from .choices import (
    Category,
    CommentSource,
    Deployment,
    Priority,
    ScopeExclusion,
    Status,
)
from .markdown import render_markdown
from .models import Attachment, Comment, Contact, PriorityChange, Ticket
from .numbering import ticket_number_next
from .selectors import contact_for_user
from .sla_state import TICKET_SLA_FIELDS
from .workspace import audit as workspace_audit
from .workspace.models import AuditAction, TicketAudit

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


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise NotAllowed(_("Only support staff can do this."))


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


def _store_attachments(
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


def _discard_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


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
            _store_attachments(
                ticket=ticket,
                comment=None,
                uploader=requester,
                uploads=uploads,
                stored_names=stored,
            )
            events.publish(events.TicketCreated(ticket=ticket))
    except BaseException:
        _discard_files(stored)
        raise
    logger.info("ticket created number=%s source=%s", ticket.number, source)
    return ticket


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


def _apply_status(
    ticket: Ticket, status: str, now: datetime, fields: list[str]
) -> None:
    ticket.status = status
    ticket.solved_at = now if status == Status.SOLVED else None
    ticket.closed_at = now if status == Status.CLOSED else None
    fields.extend(f for f in ("status", "solved_at", "closed_at") if f not in fields)


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
        _require_transaction()
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
            comment = Comment.objects.create(
                ticket=locked,
                author=author,
                body=body,
                body_html=render_markdown(body),
                is_public=is_public,
                source=source,
                email_message_id=email_message_id,
            )
            _store_attachments(
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
        _discard_files(stored)
        raise
    _refresh(ticket, locked)
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
    _require_transaction()
    comments = []
    for reply in replies:
        body = reply.body.strip()
        if not body:
            raise ValidationFailed(_("Write a comment or attach a file."), field="body")
        _check_writable(reply.ticket, reply.author, reopen_closed=reopen_closed)
        comments.append(
            Comment(
                ticket=reply.ticket,
                author=reply.author,
                body=body,
                body_html=render_markdown(body),
                is_public=True,
                source=reply.source,
                email_message_id=reply.email_message_id,
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


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("the tickets' row locks ended with their transaction")


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
            _apply_status(ticket, status, comment.created_at, changed)
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


CUSTOMER_STATUS_MOVES: dict[str, frozenset[str]] = {
    Status.SOLVED: frozenset(
        {Status.NEW, Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.ON_HOLD}
    ),
    Status.OPEN: frozenset({Status.SOLVED}),
}


# Status and assignee changes get a workspace audit row (who, from, to) in their
# own transaction, whichever way they came; the engineers' thread shows them.
AUDIT_STATUS = frozenset({AuditAction.STATUS})
AUDIT_ASSIGNEE = frozenset({AuditAction.ASSIGNEE})


def ticket_status_change(*, ticket: Ticket, actor: User, status: str) -> Ticket:
    """Change the status; customers may only mark solved or reopen a solved ticket."""
    if status not in Status.values:
        raise ValidationFailed(_("Unknown status."), field="status")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status == status:
            return locked
        if not actor.is_staff and locked.status not in CUSTOMER_STATUS_MOVES.get(
            status, frozenset()
        ):
            if locked.status == Status.CLOSED:
                raise InvalidTransition(
                    _("This ticket is closed. Open a new ticket to continue.")
                )
            raise InvalidTransition(
                _("A %(old)s ticket cannot be set to %(new)s.")
                % {"old": locked.get_status_display(), "new": Status(status).label}
            )
        now = timezone.now()
        fields = ["updated_at", "last_activity_at"]
        locked.last_activity_at = now
        before = workspace_audit.snapshot(locked)
        _apply_status(locked, status, now, fields)
        locked.save(update_fields=fields)
        workspace_audit.audit_differences(
            before=before, after=locked, actor=actor, actions=AUDIT_STATUS
        )
        events.publish(events.StatusChanged(ticket=locked, by_user_id=actor.pk))
    _refresh(ticket, locked)
    return locked


def ticket_priority_change(
    *, ticket: Ticket, actor: User, priority: int, reason: str
) -> PriorityChange:
    """Re-prioritise, up or down, with a reason the customer sees in the thread."""
    _require_staff(actor)
    reason = reason.strip()
    if priority not in Priority.values:
        raise ValidationFailed(_("Choose a priority from 0 to 4."), field="priority")
    if not reason:
        raise ValidationFailed(
            _("Say why the priority changes; the customer will see the reason."),
            field="priority_change_reason",
        )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.priority == priority:
            raise ValidationFailed(
                _("The ticket already has priority %(p)s.")
                % {"p": Priority(priority).label},
                field="priority",
            )
        change = PriorityChange.objects.create(
            ticket=locked,
            from_priority=locked.priority,
            to_priority=priority,
            changed_by=actor,
            reason=reason,
        )
        locked.priority = priority
        locked.last_activity_at = change.created_at
        locked.save(update_fields=["priority", "last_activity_at", "updated_at"])
        events.publish(events.PriorityChanged(change=change))
    _refresh(ticket, locked)
    return change


def ticket_assign(*, ticket: Ticket, actor: User, assignee: User | None) -> Ticket:
    """Give the ticket to a support engineer (or take it back into the queue)."""
    _require_staff(actor)
    if assignee is not None and not (assignee.is_staff and assignee.is_active):
        raise ValidationFailed(
            _("Tickets can only be assigned to support staff."), field="assignee"
        )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = workspace_audit.snapshot(locked)
        locked.assignee = assignee
        locked.save(update_fields=["assignee", "updated_at"])
        workspace_audit.audit_differences(
            before=before, after=locked, actor=actor, actions=AUDIT_ASSIGNEE
        )
    _refresh(ticket, locked)
    return locked


def ticket_category_change(*, ticket: Ticket, actor: User, category: str) -> Ticket:
    _require_staff(actor)
    if category not in Category.values:
        raise ValidationFailed(_("Choose a category."), field="category")
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        locked.category = category
        locked.last_activity_at = timezone.now()  # the customer sees the category
        locked.save(update_fields=["category", "last_activity_at", "updated_at"])
    _refresh(ticket, locked)
    return locked


TRIAGE_FIELDS = frozenset(
    {"status", "priority", "assignee", "category", "scope_exclusion"}
)


@dataclass(frozen=True)
class SessionRequestInput:
    """A real-time session asked for with a triage (``sessions.session_request``)."""

    proposed_at: datetime
    link: str = ""
    note: str = ""


@dataclass(frozen=True)
class TriageInput:
    """What an engineer submits from the admin ticket page (or the API) in one go.

    ``changed`` names the fields the engineer means to change (``status``,
    ``priority``, ``assignee``, ``category``, ``scope_exclusion``); the others keep
    the values they have when the ticket is locked, so a concurrent change of
    another field is never undone by values read earlier. None: every field, as
    submitted. ``scope_exclusion`` None leaves the scope alone; ``session`` asks
    the customer for a real-time session.
    """

    status: str
    priority: int
    priority_change_reason: str = ""
    assignee: User | None = None
    category: str = ""
    reply: str = ""
    reply_is_public: bool = True
    changed: frozenset[str] | None = None
    scope_exclusion: str | None = None
    session: SessionRequestInput | None = None

    def sets(self, field: str) -> bool:
        return self.changed is None or field in self.changed


def ticket_triage(
    *,
    ticket: Ticket,
    actor: User,
    changes: TriageInput,
    files: Sequence[UploadedFile] = (),
) -> Ticket:
    """Apply a reply, field changes, scope and a session request: all or nothing.

    One transaction: when any step refuses (an oversize file, a bad session time,
    a missing reason) nothing of the triage is kept, no mail is queued, and the
    caller shows the error with everything the engineer typed. The reply and the
    session request go before the status, so that an explicit status chosen with
    them wins over the status a public reply alone would set.
    """
    from . import sessions  # sessions builds on this module

    _require_staff(actor)
    # One save is one email per recipient, however many steps it takes.
    with transaction.atomic(), events.batch():
        current = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if changes.reply.strip() or files:
            comment_create(
                ticket=current,
                author=actor,
                body=changes.reply,
                is_public=changes.reply_is_public,
                source=CommentSource.ADMIN,
                files=files,
            )
        if changes.sets("priority") and changes.priority != current.priority:
            ticket_priority_change(
                ticket=current,
                actor=actor,
                priority=changes.priority,
                reason=changes.priority_change_reason,
            )
        if changes.sets("assignee") and changes.assignee != current.assignee:
            ticket_assign(ticket=current, actor=actor, assignee=changes.assignee)
        if (
            changes.sets("category")
            and changes.category
            and changes.category != current.category
        ):
            ticket_category_change(
                ticket=current, actor=actor, category=changes.category
            )
        if (
            changes.scope_exclusion is not None
            and changes.sets("scope_exclusion")
            and changes.scope_exclusion != current.scope_exclusion
        ):
            ticket_scope_set(
                ticket=current, actor=actor, scope_exclusion=changes.scope_exclusion
            )
        if changes.session is not None:
            sessions.session_request(
                ticket=current,
                actor=actor,
                proposed_at=changes.session.proposed_at,
                link=changes.session.link,
                note=changes.session.note,
            )
            current.refresh_from_db()
        status_chosen = (
            changes.status != ticket.status
            if changes.changed is None
            else "status" in changes.changed
        )
        if status_chosen and changes.status != current.status:
            ticket_status_change(ticket=current, actor=actor, status=changes.status)
    _refresh(ticket, current)
    return current


def tickets_close_solved(*, now: datetime | None = None) -> int:
    """Close tickets solved more than TICKET_AUTO_CLOSE_DAYS ago.

    Idempotent: a second run finds nothing left to close.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TICKET_AUTO_CLOSE_DAYS)
    closed = Ticket.objects.filter(status=Status.SOLVED, solved_at__lt=cutoff).update(
        status=Status.CLOSED, closed_at=now, updated_at=now
    )
    if closed:
        logger.info("closed %s solved tickets", closed)
    return closed


def _refresh(target: Ticket, source: Ticket) -> None:
    """Copy the committed state onto the caller's instance so it does not go stale."""
    if target is source:
        return
    for field in (
        "status",
        "priority",
        "assignee_id",
        "category",
        "last_activity_at",
        "updated_at",
        "solved_at",
        "closed_at",
        *TICKET_SLA_FIELDS,
    ):
        setattr(target, field, getattr(source, field))
    if "assignee" in target._state.fields_cache:
        target._state.fields_cache.pop("assignee")


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
        with transaction.atomic():
            locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
            if locked.status == Status.CLOSED and not uploader.is_staff:
                raise InvalidTransition(
                    _("This ticket is closed. Open a new ticket to continue.")
                )
            existing = Attachment.objects.filter(ticket=locked, comment=comment)
            uploads = check_uploads(files, already_attached=existing.count())
            _store_attachments(
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
        _discard_files(stored)
        raise
    _refresh(ticket, locked)
    return list(
        Attachment.objects.filter(ticket=locked, file__in=stored).order_by("id")
    )


def contact_notifications_set(
    *, contact: Contact, organization_tickets: bool
) -> Contact:
    """Follow (or stop following) the organisation's tickets by email.

    Mail about the contact's own tickets is always sent: they are the requester.
    """
    contact.notify_organization_tickets = organization_tickets
    contact.save(update_fields=["notify_organization_tickets"])
    return contact


def ticket_scope_set(*, ticket: Ticket, actor: User, scope_exclusion: str) -> Ticket:
    """Mark (or clear) the ticket as outside the policy's scope; the customer sees why.

    ``scope_exclusion`` is a ``ScopeExclusion`` value, or "" to clear it.
    """
    _require_staff(actor)
    if scope_exclusion and scope_exclusion not in ScopeExclusion.values:
        raise ValidationFailed(
            _("Choose a reason from the policy."), field="scope_exclusion"
        )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        locked.scope_exclusion = scope_exclusion
        locked.last_activity_at = timezone.now()  # the customer sees the reason
        locked.save(update_fields=["scope_exclusion", "last_activity_at", "updated_at"])
    ticket.scope_exclusion = locked.scope_exclusion
    logger.info("ticket %s scope set to %r", locked.number, scope_exclusion or "-")
    return locked


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
