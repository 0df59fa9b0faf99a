"""The ticket page's reads and its submit, kept out of the view to keep it thin."""

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import ServiceError
from tickets.sla_reads import sla_reads

from .. import services
from ..cache import Fragment, fragments
from ..choices import ACTIVE_STATUSES, Status
from ..models import Contact, Ticket
from ..selectors import ticket_page_thread
from . import presence, queues, versions
from .collision import Change, Seen, changes_since
from .forms import TicketPageForm
from .links import queue_url, ticket_url
from .macros import macro_cache_keys, macros_for_ticket
from .models import AuditAction, TicketAudit
from .page_form import (
    ShownForm,
    reply_form_shown,
    staff_options,
    ticket_page_form_shown,
)
from .page_head import TicketHead, ticket_head
from .page_ticket import TicketSource
from .queue_page import STAFF_CACHE_KEYS
from .saving import SessionOffer, ticket_page_save

OTHER_TICKETS_SHOWN = 8
# How long a thread entry is kept: every change it shows replaces its version,
# its NAMES stamp or its key, so this only bounds what unused entries occupy.
THREAD_SECONDS = 6 * 3600
# Audit rows the thread shows; priority changes and notes have their own entries.
THREAD_AUDIT = (AuditAction.STATUS, AuditAction.ASSIGNEE, AuditAction.SCOPE)


def _thread(ticket: Ticket, user: User) -> tuple[list[Any], list[Any]]:
    """The description's files and the thread with the workspace's audit rows."""
    thread = ticket_page_thread(ticket, user)
    audit = list(
        TicketAudit.objects.filter(ticket=ticket, action__in=THREAD_AUDIT)
        .select_related("actor")
        .only(
            "action",
            "from_value",
            "to_value",
            "created_at",
            "actor__email",
            "actor__first_name",
            "actor__last_name",
        )
    )
    entries: list[Any] = [*thread.entries, *audit, *_unaudited_endings(ticket, audit)]
    entries.sort(key=lambda entry: (entry.created_at, entry.kind != "comment"))
    return thread.description_attachments, entries


def _thread_fragment(source: TicketSource, user: User) -> Fragment:
    """The rendered conversation, shared by every engineer until the ticket changes.

    It is the same for all staff (they all read internal notes) and holds no
    per-viewer part: the form, the CSRF token and presence are rendered around it.
    Valid under the organisation's version (bumped on commit of any write to the
    ticket, its comments, priority changes, files, sessions or audit rows), the
    ticket's ``updated_at`` (moved by every service write and by the auto-close)
    and the ``versions.NAMES`` stamp (the people it names: their names, email and
    staff flag). It shows only absolute times (in the key's time zone), so nothing
    but those changes it: it is kept ``THREAD_SECONDS``, not ``STALE_AFTER``.
    """
    if not user.is_staff:
        raise PermissionError("the workspace thread includes internal notes")

    def render() -> str:
        ticket = source.full()
        description_files, entries = _thread(ticket, user)
        return render_to_string(
            "admin/tickets/workspace/_thread.html",
            {
                "ticket": ticket,
                "thread": entries,
                "description_attachments": description_files,
            },
        )

    return Fragment(
        "ws-thread",
        (source.key.pk, source.key.updated_at.isoformat()),
        render,
        timeout=THREAD_SECONDS,
        stamps=(versions.NAMES,),
        # This thread's uncommitted people are for nobody else's eyes.
        cacheable=not versions.pending(versions.NAMES),
    )


def _side_fragment(source: TicketSource) -> Fragment:
    """The SLA and organisation panels, shared like the thread.

    Besides the organisation's version (which every write to its tickets and
    contacts bumps), the key holds the ticket's SLA fields, which the SLA engine
    moves whenever a clock changes. Relative times ("3 hours left") are refreshed
    by the page's script; the entry expires a minute after it was rendered.
    """

    def render() -> str:
        ticket = source.full()
        organization = ticket.organization
        contacts = list(
            Contact.objects.filter(organization=organization, is_technical_contact=True)
            .select_related("user")
            .only("user__email", "user__first_name", "user__last_name")
            .order_by("user__first_name", "user__email")
        )
        others = list(
            Ticket.objects.filter(organization=organization, status__in=ACTIVE_STATUSES)
            .exclude(pk=ticket.pk)
            .only("number", "subject", "priority", "status")
            .order_by("priority", "-last_activity_at")[:OTHER_TICKETS_SHOWN]
        )
        return render_to_string(
            "admin/tickets/workspace/_side.html",
            {
                "ticket": ticket,
                "sla_clocks": sla_reads().clocks_explained(ticket),
                "contacts": contacts,
                "other_tickets": others,
            },
        )

    key = source.key
    return Fragment(
        "ws-side", (key.pk, key.updated_at.isoformat(), *key.sla_state), render
    )


def _head_fragment(source: TicketSource) -> Fragment:
    """The ticket's own parts of the page (``page_head``), shared like the thread.

    Valid under what the thread's entry is (the organisation's version, the
    ticket's ``updated_at``, the ``versions.NAMES`` stamp: the organisation's and
    tier's names and the tier's session terms, the requester's names, the staff
    of the assignee select) and for the day its key names (the version's
    "unsupported" flag). The staff list is read when it renders, not on every
    request.
    """
    today = timezone.now().date()

    def render() -> TicketHead:
        ticket = source.full()
        staff = staff_options(cache.get_many(list(STAFF_CACHE_KEYS)))
        form = ticket_page_form_shown(ticket, view="", staff=staff)
        return ticket_head(ticket, form, today=today)

    key = source.key
    return Fragment(
        "ws-head",
        (key.pk, key.updated_at.isoformat(), today.isoformat()),
        render,
        timeout=THREAD_SECONDS,
        stamps=(versions.NAMES,),
        cacheable=not versions.pending(versions.NAMES),
    )


@dataclass(frozen=True)
class Ending:
    """The ticket was solved or closed outside the workspace (portal, auto-close)."""

    status: str
    created_at: datetime
    kind: str = "ending"


def _unaudited_endings(ticket: Ticket, audit: list[TicketAudit]) -> list[Ending]:
    """The latest solve and close, from the ticket's own times, unless audited.

    Customers mark tickets solved in the portal and the sweep closes solved
    tickets; neither writes a workspace audit row, but both set ``solved_at`` or
    ``closed_at``, which the thread can show without an actor.
    """
    endings = []
    for status, moment in (
        (Status.SOLVED, ticket.solved_at),
        (Status.CLOSED, ticket.closed_at),
    ):
        label = str(Status(status).label)
        audited = (
            any(
                entry.action == AuditAction.STATUS
                and entry.to_value == label
                and abs((entry.created_at - moment).total_seconds()) < 5
                for entry in audit
            )
            if moment
            else True
        )
        if moment and not audited:
            endings.append(Ending(status=label, created_at=moment))
    return endings


def ticket_page_context(
    request: HttpRequest,
    source: TicketSource,
    *,
    form: TicketPageForm | None,
    view: str,
) -> dict[str, Any]:
    """Everything the ticket page shows, in a fixed number of queries.

    What the cache holds for the page (the head, thread and side fragments,
    presence, the engineer's macros) is read in one round trip when it is all
    current, and then the ticket is not read beyond ``source.key``. A GET shows
    the form as ``page_form`` renders it; a posted form is shown as is, and the
    head is rendered from it.
    """
    user = cast(User, request.user)
    macro_keys = macro_cache_keys(user)
    presence_key = presence.presence_key(source.key.pk)
    wanted = [_thread_fragment(source, user), _side_fragment(source)]
    if form is None:
        wanted.append(_head_fragment(source))
    contents, found = fragments(
        organization_id=source.key.organization_id,
        wanted=wanted,
        also=[presence_key, *macro_keys],
    )
    thread, side = contents[:2]
    head: TicketHead
    shown: TicketPageForm | ShownForm
    if form is None:
        head, shown = contents[2], reply_form_shown(view)
    else:
        today = timezone.now().date()
        head, shown = ticket_head(source.full(), form, today=today), form
    return {
        "title": f"{head.reference} {head.subject}",
        "head": head,
        "form": shown,
        "media": shown.media,
        # Fragments are our own templates' autoescaped output (content sanitised).
        "thread_html": mark_safe(thread),  # noqa: S308
        "side_html": mark_safe(side),  # noqa: S308
        "session_refusal": head.session_refusal,
        "macros": macros_for_ticket(head.placeholders, user, cached=found),
        "viewers": presence.presence_others_in(found.get(presence_key), user=user),
        "heartbeat_seconds": presence.HEARTBEAT_SECONDS,
        "view": view,
    }


@dataclass
class Outcome:
    """What a submit led to: a redirect, or the form again (errors, collisions)."""

    redirect: str = ""
    form: TicketPageForm | None = None
    collisions: list[Change] = field(default_factory=list)


def _engineer_changed(form: TicketPageForm, seen: Seen) -> frozenset[str]:
    """The triage fields the engineer set to something else than the page showed."""
    data = form.cleaned_data
    assignee = data.get("assignee")
    posted = {
        "status": data["status"] != seen.status,
        "priority": data["priority"] != seen.priority,
        "assignee": (assignee.pk if assignee else None) != seen.assignee_id,
        "category": data["category"] != seen.category,
    }
    return frozenset(name for name, differs in posted.items() if differs)


def _rebased(form: TicketPageForm, ticket: Ticket, changed: frozenset[str]) -> Any:
    """The form again, seeing the ticket now: untouched fields take current values.

    The typed reply, reason and the fields the engineer changed are kept, so
    submitting again applies exactly their own edits on top of the others'.
    """
    data = cast(QueryDict, form.data).copy()
    current = {
        "status": ticket.status,
        "priority": str(ticket.priority),
        "assignee": str(ticket.assignee_id or ""),
        "category": ticket.category,
    }
    for name, value in current.items():
        if name not in changed:
            data[name] = value
    data["seen"] = Seen.of(ticket).token()
    return TicketPageForm(data, instance=copy.copy(ticket))


def _unseen(form: TicketPageForm, ticket: Ticket) -> TicketPageForm:
    """The form again when it did not say which version of the ticket it showed.

    Without that (a missing, mangled or future ``seen``) a save could undo
    someone else's change unnoticed, so nothing is applied: everything posted is
    kept, the page now shows the current ticket, and saving again applies it.
    """
    data = cast(QueryDict, form.data).copy()
    data["seen"] = Seen.of(ticket).token()
    again = TicketPageForm(data, instance=copy.copy(ticket))
    again.is_valid()
    message = _(
        "Not saved: this page did not say which version of the ticket you saw. "
        "Check the ticket as it is now and save again."
    )
    if form.files:
        message += " " + _("Your files were not uploaded: attach them again.")
    again.add_error(None, message)
    return again


def _triage_input(
    data: dict[str, Any], *, reply: str, public: bool, changed: frozenset[str]
) -> services.TriageInput:
    """The triage service's input from the page form's cleaned data."""
    return services.TriageInput(
        status=data["status"],
        priority=data["priority"],
        priority_change_reason=data.get("priority_change_reason", ""),
        assignee=data.get("assignee"),
        category=data["category"],
        reply=reply,
        reply_is_public=public,
        changed=changed,
    )


def _session_offer(data: dict[str, Any]) -> SessionOffer | None:
    """The session proposal typed on the page, or None when none was proposed."""
    if not data.get("session_proposed_at"):
        return None
    return SessionOffer(
        proposed_at=data["session_proposed_at"],
        link=data.get("session_link") or "",
        note=data.get("session_note") or "",
    )


def _saved_messages(
    request: HttpRequest,
    ticket: Ticket,
    data: dict[str, Any],
    *,
    replied: bool,
    public: bool,
) -> None:
    """Say what the committed save did: a reply, a note or an update, a session."""
    if replied:
        messages.success(
            request, _("Reply sent.") if public else _("Internal note added.")
        )
    else:
        messages.success(request, _("%(ref)s updated.") % {"ref": ticket.reference})
    if data.get("session_proposed_at"):
        messages.success(request, _("The session request was sent to the customer."))


def ticket_page_submit(request: HttpRequest, ticket: Ticket, view: str) -> Outcome:
    """Check for collisions, then save through ``saving.ticket_page_save``.

    A refusal comes back as a form error with everything typed kept; nothing
    says "saved" unless the save committed.
    """
    user = cast(User, request.user)
    form = TicketPageForm(request.POST, request.FILES, instance=copy.copy(ticket))
    if not form.is_valid():
        return Outcome(form=form)
    data = form.cleaned_data
    seen = Seen.parse(data.get("seen") or "")
    if seen is None or seen.updated_at > ticket.updated_at:
        return Outcome(form=_unseen(form, ticket))
    changed = _engineer_changed(form, seen)
    collisions = changes_since(ticket, seen, user)
    if collisions:
        if request.FILES:
            collisions.append(
                Change("", _("Your files were not uploaded: attach them again."), None)
            )
        return Outcome(form=_rebased(form, ticket, changed), collisions=collisions)
    next_ids: list[int] = []
    if "_save_next" in request.POST:
        query = queues.QueueQuery.from_params(QueryDict(view))
        next_ids = queues.queue_ticket_ids(query, user)
    reply = (data.get("reply") or "").strip()
    public = data.get("reply_visibility") == "public"
    files = data.get("reply_attachments") or []
    scope = data.get("scope_exclusion")
    try:
        ticket_page_save(
            ticket=ticket,
            actor=user,
            changes=_triage_input(data, reply=reply, public=public, changed=changed),
            scope_exclusion=scope if "scope_exclusion" in form.changed_data else None,
            session=_session_offer(data),
            files=files,
        )
    except ServiceError as error:
        form.add_service_error(error)
        return Outcome(form=form)
    _saved_messages(request, ticket, data, replied=bool(reply or files), public=public)
    if next_ids:
        following = queues.next_ticket_id(next_ids, ticket.pk)
        if following is not None:
            return Outcome(redirect=ticket_url(following, view))
        messages.info(request, _("That was the last ticket of this view."))
        return Outcome(redirect=queue_url(view))
    return Outcome(redirect=ticket_url(ticket.pk, view) + "#ws-reply")
