"""The workspace's admin views: thin, they parse, call a selector or service, render.

``tickets.admin.TicketAdmin`` delegates its changelist and change form here and
adds the URLs of ``urls``; each view receives the model admin so that the
admin's own permission checks and context apply.
"""

from collections.abc import Mapping
from typing import Any, cast

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.request import QueryDict
from django.shortcuts import get_object_or_404
from django.template.backends.utils import csrf_input
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from scalr_support.accounts.backends import permission_keys, prime_permissions
from scalr_support.accounts.models import User
from scalr_support.common.errors import ServiceError
from scalr_support.common.jinja2 import zone_abbreviation
from tickets.admin_sla import STATE_LABELS

from ..models import Ticket
from . import bulk, presence, queues
from .chrome import chrome_links
from .collision import Seen, changes_since
from .controls import options_html, remember, remembered_options
from .forms import BulkForm, SaveViewForm, value_label
from .links import queue_url
from .models import SavedView
from .page import ticket_page_context, ticket_page_submit
from .page_ticket import FULL_RELATED, TicketSource, page_ticket
from .queue_frame import FramedResponse
from .queue_page import QueuePage, queue_page

# The pages are Jinja2 templates (jinja2_templates/tickets/workspace/, the
# settings' second TEMPLATES engine): Django's template language cost most of
# their rendering CPU.
ENGINE = "jinja2"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def site_context(model_admin: ModelAdmin, request: HttpRequest) -> dict[str, Any]:
    """What the frame (``tickets/workspace/_base.html``) shows of the admin site.

    Of the admin's ``each_context`` only the values the frame writes: building
    the list of every app and model the user may see costs more than a page of
    queue rows, and the workspace shows no nav sidebar. The Jinja2 engine runs
    no context processors, so the user and the messages are passed here, and
    ``csrf_field``: the engine's ``csrf_input`` masks a new token wherever a page
    writes it (three forms on the queue), this one is masked once per page, as
    Django's ``{% csrf_token %}`` is. ``ws`` holds the frame's URLs, resolved once
    per process (``chrome``).
    """
    site = model_admin.admin_site
    script_name = request.META.get("SCRIPT_NAME", "")
    return {
        "site_title": site.site_title,
        "site_header": site.site_header,
        "site_url": script_name
        if site.site_url == "/" and script_name
        else site.site_url,
        "has_permission": site.has_permission(request),
        "ws": chrome_links(),
        "user": request.user,
        "messages": messages.get_messages(request),
        "csrf_field": csrf_input(request),
    }


def queue(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """The queue: tabs with counts, filters, one page of tickets, bulk actions."""
    user = _user(request)

    def allowed(found: Mapping[str, Any]) -> None:
        prime_permissions(user, found)
        if not model_admin.has_view_permission(request):
            raise PermissionDenied

    now = timezone.now()
    query = queues.QueueQuery.from_params(request.GET)
    data = queue_page(
        query, user, now=now, gate_keys=permission_keys(user), gate=allowed
    )
    now_local = timezone.localtime(now)
    counts = data.counts
    saved = data.saved_views
    current_params = query.params()
    matching_view = any(view.query == current_params for view in saved)
    context = {
        **site_context(model_admin, request),
        "opts": model_admin.model._meta,
        "title": _("Support queue"),
        "query": query,
        "tabs": [
            {
                "slug": slug,
                "label": label,
                "count": counts[slug],
                "url": url,
                "active": slug == query.tab and not matching_view,
            }
            for slug, label, url in _tab_links()
        ],
        "saved_views": [
            {
                "view": view,
                "url": queue_url(view.query),
                "active": view.query == current_params,
            }
            for view in saved
        ],
        "page": data.page,
        "rows": data.page.object_list,
        "rows_html": data.rows_html,
        "current_params": current_params,
        "page_url_prefix": f"{queue_url(current_params)}&page=",
        "options": _queue_options(query, user, data),
        "can_change": model_admin.has_change_permission(request),
        "can_save_views": user.has_perm("tickets.add_savedview"),
        "can_share_views": user.has_perm("tickets.share_savedview"),
        # The countdowns' start (``queue_frame.PER_REQUEST``) and the zone's name.
        "clock": now_local.isoformat(),
        "zone_label": zone_abbreviation(now_local),
    }
    return FramedResponse(
        request, "tickets/workspace/queue.html", context, using=ENGINE
    )


def _tab_links() -> tuple[tuple[str, str, str], ...]:
    """Each tab's (slug, label, link), once per process, language and URL prefix."""
    base = queue_url()
    return remember(
        ("tabs", base),
        lambda: tuple(
            (slug, str(label), queue_url(queues.QueueQuery(tab=slug).params()))
            for slug, label in queues.TABS
        ),
    )


def _priorities() -> list[tuple[int, object]]:
    return [(p.value, p.label) for p in queues.Priority]


def _statuses() -> list[tuple[str, object]]:
    return [(s.value, s.label) for s in queues.Status]


def _queue_options(
    query: queues.QueueQuery, user: User, data: QueuePage
) -> dict[str, str]:
    """The filter and bulk bars' ``<option>``s, with the query's choices selected.

    The lists fixed in the code are kept per language (``remembered_options``;
    the query's priority and SLA state are validated values); the staff and
    tiers come with the page's data.
    """
    staff = data.staff
    priority = "" if query.priority is None else str(query.priority)
    return {
        "priority_filter": remembered_options("priority", _priorities, priority),
        "tier": options_html(data.tiers, query.tier),
        "assignee_filter": options_html(staff, query.assignee),
        "sla": remembered_options("sla", STATE_LABELS.items, query.sla),
        "bulk_action": remembered_options("bulk_action", bulk.ACTIONS.items),
        "assign_to": options_html(
            pk_name for pk_name in staff if pk_name[0] != user.pk
        ),
        "status": remembered_options("status", _statuses),
        "priority": remembered_options("priority", _priorities),
    }


def _bulk_confirm_page(
    model_admin: ModelAdmin,
    request: HttpRequest,
    *,
    form: BulkForm,
    change: bulk.BulkChange,
    back: str,
) -> TemplateResponse:
    """Step one: the selected tickets and the change, or why it cannot be made."""
    tickets = list(
        Ticket.objects.filter(pk__in=form.cleaned_data["tickets"])
        .select_related("organization", "assignee")
        .order_by("number")
    )
    context = {
        **site_context(model_admin, request),
        "opts": model_admin.model._meta,
        "title": _("Confirm the bulk action"),
        "form": form,
        "change": change,
        "action_label": bulk.ACTIONS.get(change.action, ""),
        "value_label": value_label(
            change,
            {u.pk: u for u in queues.staff_choices()},
        )
        if not form.errors
        else "",
        "tickets": tickets,
        "back": back,
    }
    return TemplateResponse(
        request, "tickets/workspace/bulk_confirm.html", context, using=ENGINE
    )


def _bulk_result_messages(request: HttpRequest, result: bulk.BulkResult) -> None:
    """Tell the user which tickets changed, which already matched, which refused."""
    if result.changed:
        messages.success(
            request,
            ngettext(
                "%(n)d ticket changed.", "%(n)d tickets changed.", len(result.changed)
            )
            % {"n": len(result.changed)},
        )
    if result.unchanged:
        messages.info(
            request,
            _("Already as asked, left alone: %(refs)s")
            % {"refs": ", ".join(t.reference for t in result.unchanged)},
        )
    for ticket, reason in result.refused:
        messages.error(request, f"{ticket.reference}: {reason}")
    if not (result.changed or result.unchanged or result.refused):
        messages.error(
            request, _("None of the selected tickets exists; nothing changed.")
        )


def bulk_action(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Step one shows what will change; step two (``confirm``) applies it."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    form = BulkForm(request.POST)
    back = queue_url(queues.view_param(request.POST.get("view", "")))
    if not form.is_valid():
        if form.has_error("tickets", "too_many"):
            messages.error(request, str(form.errors["tickets"][0]))
        else:
            messages.error(request, _("Select tickets and an action."))
        return HttpResponseRedirect(back)
    change = form.change()
    ids = form.cleaned_data["tickets"]
    try:
        bulk.bulk_change_check(change)
    except ServiceError as error:
        if form.cleaned_data["confirm"]:
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        form.add_error(None, error.message)
    if not form.cleaned_data["confirm"] or form.errors:
        return _bulk_confirm_page(
            model_admin, request, form=form, change=change, back=back
        )
    try:
        result = bulk.tickets_bulk_change(
            actor=_user(request), ticket_ids=ids, change=change
        )
        queues.tab_counts_forget(_user(request))
    except ServiceError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(back)
    _bulk_result_messages(request, result)
    return HttpResponseRedirect(back)


def save_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """Save the queue's current filters as a named view (shared: managers only)."""
    if not request.user.has_perm("tickets.add_savedview"):
        raise PermissionDenied
    form = SaveViewForm(request.POST)
    query = queues.QueueQuery.from_params(QueryDict(request.POST.get("query", "")))
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return HttpResponseRedirect(queue_url(query.params()))
    shared = form.cleaned_data["shared"]
    if shared and not request.user.has_perm("tickets.share_savedview"):
        raise PermissionDenied
    SavedView.objects.create(
        name=form.cleaned_data["name"],
        query=query.params(),
        owner=None if shared else _user(request),
    )
    messages.success(request, _("View saved."))
    return HttpResponseRedirect(queue_url(query.params()))


def ticket_page(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """The ticket page: GET shows it, POST saves through ``ticket_page_submit``."""
    if not queues.is_number(object_id):
        raise Http404
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    if request.method == "POST" and not model_admin.has_change_permission(request):
        raise PermissionDenied
    view = queues.view_param(
        request.GET.get("view", "") or request.POST.get("view", "")
    )
    form, collisions = None, []
    if request.method == "POST":
        ticket = get_object_or_404(
            Ticket.objects.select_related(*FULL_RELATED, "assignee"),
            pk=int(object_id),
        )
        outcome = ticket_page_submit(request, ticket, view)
        if outcome.redirect:
            queues.tab_counts_forget(_user(request))
            return HttpResponseRedirect(outcome.redirect)
        form, collisions = outcome.form, outcome.collisions
        source = TicketSource.of(ticket)
    else:
        # A GET reads the ticket's key columns; its fragments read the rest
        # when they render (``page_ticket``).
        key = page_ticket(int(object_id))
        if key is None:
            raise Http404
        source = TicketSource(key)
    context = {
        **site_context(model_admin, request),
        **ticket_page_context(request, source, form=form, view=view),
        "opts": model_admin.model._meta,
        "collisions": collisions,
        "can_change": model_admin.has_change_permission(request),
        "queue_back": queue_url(view),
    }
    return TemplateResponse(
        request, "tickets/workspace/ticket.html", context, using=ENGINE
    )


def heartbeat(
    model_admin: ModelAdmin, request: HttpRequest, object_id: int
) -> JsonResponse:
    """Mark the engineer present on the ticket; say who else is and what changed."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    ticket = get_object_or_404(Ticket.objects.only("pk", "updated_at"), pk=object_id)
    others = presence.presence_beat(
        ticket_id=ticket.pk,
        user=_user(request),
        typing=request.POST.get("typing") == "1",
    )
    seen = Seen.parse(request.POST.get("seen", ""))
    changed = seen is not None and ticket.updated_at > seen.updated_at
    if changed and seen is not None:
        full = Ticket.objects.select_related("assignee").get(pk=ticket.pk)
        changed = bool(changes_since(full, seen, _user(request)))
    return JsonResponse({"others": others, "changed": changed})


def assign_to_me(
    model_admin: ModelAdmin, request: HttpRequest, object_id: int
) -> HttpResponse:
    """The queue's ``a`` key: take one ticket, with its audit row, no confirmation."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    user = _user(request)
    result = bulk.tickets_bulk_change(
        actor=user,
        ticket_ids=[object_id],
        change=bulk.BulkChange(action="assign", value=str(user.pk)),
    )
    queues.tab_counts_forget(user)
    for ticket in result.changed:
        messages.success(
            request, _("%(ref)s assigned to you.") % {"ref": ticket.reference}
        )
    for ticket in result.unchanged:
        messages.info(
            request,
            _("%(ref)s is already assigned to you.") % {"ref": ticket.reference},
        )
    for ticket, reason in result.refused:
        messages.error(request, f"{ticket.reference}: {reason}")
    if not (result.changed or result.unchanged or result.refused):
        messages.error(request, _("That ticket does not exist; nothing changed."))
    return HttpResponseRedirect(
        queue_url(queues.view_param(request.POST.get("view", "")))
    )


def urls(model_admin: ModelAdmin) -> list[Any]:
    """The workspace's extra admin URLs, named like the admin's own."""
    from django.urls import path

    wrap = model_admin.admin_site.admin_view

    def bind(view: Any) -> Any:
        def bound(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(model_admin, request, **kwargs)

        return wrap(bound)

    return [
        path(
            "workspace/bulk/",
            bind(bulk_action),
            name="tickets_ticket_workspace_bulk",
        ),
        path(
            "workspace/views/save/",
            bind(save_view),
            name="tickets_ticket_workspace_save_view",
        ),
        path(
            "<int:object_id>/workspace/presence/",
            bind(heartbeat),
            name="tickets_ticket_workspace_presence",
        ),
        path(
            "<int:object_id>/workspace/assign-to-me/",
            bind(assign_to_me),
            name="tickets_ticket_workspace_assign_me",
        ),
    ]
