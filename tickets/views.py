"""Customer portal pages: parse the request, call one service or selector, render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from scalr_support.common.errors import ServiceError

from . import selectors, services
from .choices import PRIORITY_DESCRIPTIONS, CommentSource, Priority, Status
from .forms import CommentForm, TicketFilterForm, TicketForm
from .models import Ticket

TICKETS_PER_PAGE = 25


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("admin:index")
    return redirect("tickets:list")


def _entitlements(request: HttpRequest) -> dict[str, Any]:
    contact = request.contact  # type: ignore[attr-defined]
    return {"contact": contact, "tier": contact.organization.tier if contact else None}


@require_GET
@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    form = TicketFilterForm(request.GET or None)
    filters = selectors.TicketFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.TicketFilters(
            status=data["status"], priority=data["priority"], q=data["q"]
        )
    tickets = selectors.ticket_list(request.user, filters)
    page = Paginator(tickets, TICKETS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/ticket_list.html",
        {
            "page": page,
            "form": form,
            "query": query.urlencode(),
            **_entitlements(request),
        },
    )


def _priority_help(request: HttpRequest) -> list[dict[str, Any]]:
    contact = request.contact  # type: ignore[attr-defined]
    targets = selectors.response_targets_by_priority(contact.organization.tier_id)
    return [
        {
            "value": priority.value,
            "label": priority.label,
            "description": PRIORITY_DESCRIPTIONS[priority],
            "target": targets.get(priority.value),
        }
        for priority in Priority
    ]


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
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
    form = TicketForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_create(
                requester=request.user,
                data=services.TicketInput(
                    subject=data["subject"],
                    description=data["description"],
                    priority=data["priority"],
                    category=data["category"],
                    deployment=data["deployment"],
                    version_reported=data["version_reported"],
                ),
                files=data["attachments"],
                source=CommentSource.PORTAL,
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request, _("Ticket #%(n)s was created.") % {"n": ticket.number}
            )
            return redirect("tickets:detail", number=ticket.number)
    return render(
        request,
        "tickets/ticket_new.html",
        {"form": form, "priorities": _priority_help(request), **_entitlements(request)},
        status=400 if form.errors else 200,
    )


def _render_detail(
    request: HttpRequest, ticket: Ticket, form: CommentForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "tickets/ticket_detail.html",
        {
            "ticket": ticket,
            "thread": selectors.ticket_thread(ticket, request.user),
            "description_attachments": selectors.ticket_description_attachments(ticket),
            "form": form,
            "can_comment": ticket.status != Status.CLOSED or request.user.is_staff,
            **_entitlements(request),
        },
        status=status,
    )


@require_GET
@login_required
def ticket_detail(request: HttpRequest, number: int) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, number)
    return _render_detail(request, ticket, CommentForm())


@require_POST
@login_required
def comment_create(request: HttpRequest, number: int) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, number)
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.comment_create(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
                source=CommentSource.PORTAL,
            )
        except ServiceError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Your reply was added."))
            return HttpResponseRedirect(
                reverse("tickets:detail", args=[number]) + "#latest"
            )
    return _render_detail(request, ticket, form, status=400)


def _status_action(
    request: HttpRequest, number: int, status: str, done: str
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
def ticket_solve(request: HttpRequest, number: int) -> HttpResponse:
    return _status_action(
        request, number, Status.SOLVED, _("The ticket is marked solved.")
    )


@require_POST
@login_required
def ticket_reopen(request: HttpRequest, number: int) -> HttpResponse:
    return _status_action(request, number, Status.OPEN, _("The ticket is open again."))


@require_GET
@login_required
def attachment_download(
    request: HttpRequest, number: int, attachment_id: int
) -> FileResponse:
    attachment = selectors.attachment_get_for_user(request.user, number, attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
