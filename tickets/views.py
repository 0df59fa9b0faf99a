"""Customer portal pages: parse the request, call one service or selector, render."""

from collections.abc import Callable
from typing import Any, TypedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from scalr_support.accounts.http import AuthenticatedHttpRequest
from scalr_support.common.errors import ServiceError
from scalr_support.common.not_found import not_found_as_404

from . import cache as ticket_cache
from . import (
    customer_views,
    held_uploads,
    lifecycle,
    selectors,
    services,
    sessions,
)
from .attachments import attachment_response
from .choices import (
    PRIORITY_DESCRIPTIONS,
    SCOPE_REASONS,
    THIRD_PARTY_NOTE,
    CommentSource,
    Priority,
    ScopeExclusion,
    Status,
)
from .forms import (
    CommentForm,
    NotificationPreferencesForm,
    SessionProposeForm,
    TicketForm,
)
from .models import Ticket
from .sla_reads import sla_reads


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("admin:index")
    return redirect("tickets:list")


def _entitlements(request: HttpRequest) -> dict[str, Any]:
    contact = request.contact  # type: ignore[attr-defined]
    return {"contact": contact, "tier": contact.organization.tier if contact else None}


def _priority_help(request: HttpRequest) -> list[dict[str, Any]]:
    contact = request.contact  # type: ignore[attr-defined]
    targets = sla_reads().targets_by_priority(contact.organization.tier_id)
    return [
        {
            "value": priority.value,
            "label": priority.label,
            "description": PRIORITY_DESCRIPTIONS[priority],
            "target": targets.get(priority.value),
            "due_now": sla_reads().due_if_opened_now(
                contact.organization, targets[priority.value]
            )
            if priority.value in targets and targets[priority.value].guaranteed
            else None,
        }
        for priority in Priority
    ]


def _ticket_input(data: dict[str, Any]) -> services.TicketInput:
    return services.TicketInput(
        subject=data["subject"],
        description=data["description"],
        priority=data["priority"],
        category=data["category"],
        deployment=data["deployment"],
        version_reported=data["version_reported"],
    )


@login_required
def ticket_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    contact = request.contact  # type: ignore[attr-defined]
    if contact is None or not contact.is_technical_contact:
        return render(
            request,
            "tickets/ticket_new_not_allowed.html",
            _entitlements(request),
            status=403,
        )
    initial = {
        "deployment": contact.organization.deployment,
        "version_reported": contact.organization.scalr_version,
        "priority": Priority.MINOR,
    }
    bound = request.method == "POST"
    form = TicketForm(
        request.POST if bound else None,
        request.FILES if bound else None,
        initial=initial,
    )
    kept = request.POST.getlist("held_upload") if bound else []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                requester=request.user,
                data=_ticket_input(data),
                files=[
                    *held_uploads.uploads_release(user=request.user, tokens=kept),
                    *data["attachments"],
                ],
                source=CommentSource.PORTAL,
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            # An unsupported version is said once, by the ticket page's own notice.
            held_uploads.uploads_discard(user=request.user, tokens=kept)
            messages.success(
                request, _("Ticket #%(n)s was created.") % {"n": ticket.number}
            )
            return redirect("tickets:detail", number=ticket.number)
    version = (
        form.data.get("version_reported") if bound else initial["version_reported"]
    )
    return _ticket_new_page(request, form, kept if bound else None, version or "")


def _ticket_new_page(
    request: AuthenticatedHttpRequest,
    form: TicketForm,
    kept: list[str] | None,
    version: str,
) -> HttpResponse:
    """The new-ticket form; ``kept``: the held uploads of a refused submission."""
    contact = request.contact  # type: ignore[attr-defined]
    return render(
        request,
        "tickets/ticket_new.html",
        {
            "form": form,
            "held": held_uploads.uploads_after_error(
                user=request.user,
                tokens=kept,
                files=request.FILES.getlist("attachments"),
            )
            if kept is not None
            else [],
            "priorities": _priority_help(request),
            "business_hours": sla_reads().business_hours(contact.organization),
            "lifecycle": lifecycle.lifecycle_table(),
            "version_support": lifecycle.version_support_today(version),
            "upgrade_advice": lifecycle.UPGRADE_ADVICE,
            **_entitlements(request),
        },
        status=400 if form.errors else 200,
    )


class DetailParts(TypedDict):
    """The pieces of a ticket page every viewer of the organisation shares."""

    head: str
    chunks: list[dict[str, Any]]
    aside: str
    people: dict[str, Any]


def _detail_parts(request: HttpRequest, ticket: Ticket) -> DetailParts:
    """Render the shared pieces of a ticket page: title, thread and details.

    None of them holds a form: the thread is cut after each open real-time session
    so that the viewer's own answer forms (with their CSRF token) go in between.
    """
    thread = selectors.ticket_page_thread(ticket, request.user)
    context = {
        "ticket": ticket,
        "expectations": sla_reads().ticket_expectations(ticket)
        if ticket.is_open and ticket.first_response_due_at
        else None,
        **_entitlements(request),
    }
    runs: list[tuple[list[Any], int | None]] = [([], None)]
    for entry in thread.entries:
        runs[-1][0].append(entry)
        session = getattr(entry, "session", None) if entry.kind == "comment" else None
        if session is not None and session.is_open and not request.user.is_staff:
            runs[-1] = (runs[-1][0], session.pk)
            runs.append(([], None))
    chunks = [
        {
            "html": render_to_string(
                "tickets/_detail_thread.html",
                {
                    **context,
                    "thread": entries,
                    "with_description": index == 0,
                    "description_attachments": thread.description_attachments,
                },
                request=request,
            ),
            "session_id": session_id,
        }
        for index, (entries, session_id) in enumerate(runs)
    ]
    return {
        "head": render_to_string("tickets/_detail_head.html", context, request),
        "chunks": chunks,
        "aside": render_to_string("tickets/_detail_aside.html", context, request),
        "people": customer_views.ticket_page_people(ticket),
    }


def _render_detail(
    request: HttpRequest,
    ticket: Ticket,
    form: CommentForm,
    status: int = 200,
    held: list[held_uploads.HeldUpload] | None = None,
) -> HttpResponse:
    """Render a ticket page around the pieces shared by an organisation's viewers.

    The title, thread and details are the same for every contact (and for every
    engineer), so they are cached per organisation version. The forms (status
    buttons, session answers, the reply) are rendered for this viewer on each
    request with their own CSRF token; no per-viewer secret ever passes through
    the cached, user-written HTML.
    """
    parts = ticket_cache.fragment(
        organization_id=ticket.organization_id,
        name="ticket-parts",
        parts=(ticket.pk, request.user.is_staff),
        render=lambda: _detail_parts(request, ticket),
    )
    # Rendered by the autoescaping templates above from this organisation's rows.
    safe_parts = {
        "head": mark_safe(parts["head"]),  # noqa: S308
        "chunks": [
            {**chunk, "html": mark_safe(chunk["html"])}  # noqa: S308
            for chunk in parts["chunks"]
        ],
        "aside": mark_safe(parts["aside"]),  # noqa: S308
    }
    return render(
        request,
        "tickets/ticket_detail.html",
        {
            "ticket": ticket,
            "parts": safe_parts,
            "form": form,
            "session_form": SessionProposeForm(),
            "held": held or [],
            "can_comment": ticket.status != Status.CLOSED or request.user.is_staff,
            "version_unsupported": lifecycle.is_unsupported(
                ticket.version_support_ends_on, timezone.now().date()
            ),
            "upgrade_advice": lifecycle.UPGRADE_ADVICE,
            "scope_reason": SCOPE_REASONS.get(ticket.scope_exclusion),
            **customer_views.ticket_page_extras(request, ticket, parts["people"]),
            **_entitlements(request),
        },
        status=status,
    )


@require_GET
@login_required
@not_found_as_404
def ticket_detail(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    # The body usually comes from the cache, which needs the row alone; the thread
    # selector loads the people when it is rendered.
    ticket = selectors.ticket_get_for_user(request.user, number, with_people=False)
    return _render_detail(request, ticket, CommentForm())


@require_POST
@login_required
@not_found_as_404
def comment_create(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, number)
    form = CommentForm(request.POST, request.FILES)
    kept = request.POST.getlist("held_upload")
    if form.is_valid():
        try:
            services.comment_create(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                files=[
                    *held_uploads.uploads_release(user=request.user, tokens=kept),
                    *form.cleaned_data["attachments"],
                ],
                source=CommentSource.PORTAL,
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            held_uploads.uploads_discard(user=request.user, tokens=kept)
            messages.success(request, _("Your reply was added."))
            return HttpResponseRedirect(
                reverse("tickets:detail", args=[number]) + "#latest"
            )
    held = held_uploads.uploads_after_error(
        user=request.user, tokens=kept, files=request.FILES.getlist("attachments")
    )
    return _render_detail(request, ticket, form, status=400, held=held)


def _status_action(
    request: AuthenticatedHttpRequest, number: int, status: str, done: str
) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, number)
    try:
        services.ticket_status_change(ticket=ticket, actor=request.user, status=status)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("tickets:detail", number=number)


@require_POST
@login_required
@not_found_as_404
def ticket_solve(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    return _status_action(
        request, number, Status.SOLVED, _("The ticket is marked solved.")
    )


@require_POST
@login_required
@not_found_as_404
def ticket_reopen(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    return _status_action(request, number, Status.OPEN, _("The ticket is open again."))


@require_GET
@login_required
@not_found_as_404
def attachment_download(
    request: HttpRequest, number: int, attachment_id: int
) -> FileResponse:
    attachment = selectors.attachment_get_for_user(request.user, number, attachment_id)
    return attachment_response(attachment)


@login_required
def notification_preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Let a contact choose whether to hear about all of the organisation's tickets."""
    contact = request.contact  # type: ignore[attr-defined]
    if contact is None:
        raise Http404("Only customer contacts have notification preferences.")
    form = NotificationPreferencesForm(
        request.POST if request.method == "POST" else None,
        initial={"organization_tickets": contact.notify_organization_tickets},
    )
    if request.method == "POST" and form.is_valid():
        services.contact_notifications_set(
            contact=contact,
            organization_tickets=form.cleaned_data["organization_tickets"],
        )
        messages.success(request, _("Your email preferences are saved."))
        return redirect("notification-preferences")
    return render(request, "tickets/notification_preferences.html", {"form": form})


def _session_answer(
    request: AuthenticatedHttpRequest,
    number: int,
    session_id: int,
    answer: Any,
    done: str,
) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, number)
    session = sessions.session_get_for_user(request.user, ticket, session_id)
    try:
        answer(session)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return HttpResponseRedirect(
        reverse("tickets:detail", args=[number]) + f"#session-{session.pk}"
    )


@require_POST
@login_required
@not_found_as_404
def session_accept(
    request: AuthenticatedHttpRequest, number: int, session_id: int
) -> HttpResponse:
    return _session_answer(
        request,
        number,
        session_id,
        lambda session: sessions.session_accept(session=session, actor=request.user),
        _("You accepted the session; Scalr support has been told."),
    )


@require_POST
@login_required
@not_found_as_404
def session_propose(
    request: AuthenticatedHttpRequest, number: int, session_id: int
) -> HttpResponse:
    form = SessionProposeForm(request.POST)
    if not form.is_valid():
        selectors.ticket_get_for_user(request.user, number)  # 404 before anything
        messages.error(request, _("Give the date and time that suits you."))
        return redirect("tickets:detail", number=number)
    return _session_answer(
        request,
        number,
        session_id,
        lambda session: sessions.session_propose(
            session=session,
            actor=request.user,
            proposed_at=form.cleaned_data["proposed_at"],
            note=form.cleaned_data["note"],
        ),
        _("Your proposed time was sent to Scalr support."),
    )


@require_GET
def support_policy(
    request: HttpRequest, *, schedule: Callable[[], object] = lambda: None
) -> HttpResponse:
    """The support policy with this deployment's live data: targets, lifecycle.

    ``schedule``: the maintenance schedule's reader, given by the URLconf
    (maintenance builds on tickets, so tickets does not import it).
    """
    tiers = list(sla_reads().tiers_with_targets())
    priorities = [
        {
            "label": priority.label,
            "description": PRIORITY_DESCRIPTIONS[priority],
            "targets": [
                next(
                    (t for t in tier.response_targets.all() if t.priority == priority),
                    None,
                )
                for tier in tiers
            ],
        }
        for priority in Priority
    ]
    return render(
        request,
        "tickets/support_policy.html",
        {
            "tiers": tiers,
            "priorities": priorities,
            "lifecycle": lifecycle.lifecycle_table(),
            "upgrade_advice": lifecycle.UPGRADE_ADVICE,
            "schedule": schedule(),
            "scope_reasons": [
                (ScopeExclusion(key).label, reason)
                for key, reason in SCOPE_REASONS.items()
            ],
            "third_party_note": THIRD_PARTY_NOTE,
        },
    )
