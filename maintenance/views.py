"""Maintenance pages: the calendar page, the iCalendar feed, the reminder opt-in."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import ics, selectors, services
from .forms import RemindersForm
from .slack import NOT_AFFECTED


@require_GET
def window_list(request: HttpRequest) -> HttpResponse:
    """Upcoming and recent windows with their notes; public, like the policy."""
    contact = getattr(request, "contact", None)
    return render(
        request,
        "maintenance/window_list.html",
        {
            "schedule": selectors.schedule_current(),
            "upcoming": selectors.windows_upcoming(),
            "recent": selectors.windows_recent(),
            "not_affected": NOT_AFFECTED,
            "feed_url": request.build_absolute_uri(reverse("maintenance:feed")),
            "reminders_form": RemindersForm(
                initial={"reminders": contact.maintenance_reminders}
            )
            if contact
            else None,
        },
    )


@require_GET
def window_feed(request: HttpRequest) -> HttpResponse:
    """The iCalendar feed a calendar application subscribes to (no sign-in)."""
    body = ics.feed(
        selectors.windows_for_feed(),
        domain=settings.SUPPORT_EMAIL_DOMAIN,
        page_url=settings.SITE_URL + reverse("maintenance:list"),
        now=timezone.now(),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="scalr-maintenance.ics"'
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_POST
@login_required
def reminders_set(request: HttpRequest) -> HttpResponse:
    contact = getattr(request, "contact", None)
    if contact is None:
        raise Http404("Only customer contacts receive maintenance emails.")
    form = RemindersForm(request.POST)
    form.is_valid()  # a checkbox: always valid, absent means off
    enabled = bool(form.cleaned_data.get("reminders"))
    services.contact_maintenance_reminders_set(contact=contact, enabled=enabled)
    messages.success(
        request,
        _("You will get an email the day before each maintenance window.")
        if enabled
        else _("You will no longer get maintenance emails."),
    )
    return redirect("maintenance:list")
