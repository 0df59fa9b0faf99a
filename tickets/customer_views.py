"""Portal pages for colleagues on a ticket and for rating a solved ticket."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from scalr_support.common.errors import InvalidTransition, ServiceError
from scalr_support.common.not_found import not_found_as_404

from . import followers, satisfaction, selectors, thumbnails
from .customer_models import Rating
from .models import Ticket


def ticket_page_people(ticket: Ticket) -> dict[str, Any]:
    """The shared (cached) data of a ticket's people: followers, colleagues, rating."""
    rating = satisfaction.rating_for_solve(ticket) if ticket.solved_at else None
    return {
        **followers.ticket_people(ticket),
        "rating": {"label": rating.get_rating_display(), "comment": rating.comment}
        if rating
        else None,
    }


def ticket_page_extras(
    request: HttpRequest, ticket: Ticket, people: dict[str, Any]
) -> dict[str, Any]:
    """What this viewer may do with the ticket's people and its rating (no query)."""
    user = request.user
    return {
        "people": people,
        "can_manage_followers": followers.can_manage_followers(ticket, user),  # type: ignore[arg-type]
        "can_rate": satisfaction.can_rate(ticket, user),  # type: ignore[arg-type]
        "rating_choices": Rating.choices,
    }


def _back(number: int, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("tickets:detail", args=[number]) + anchor)


@require_POST
@login_required
@not_found_as_404
def follower_add(request: HttpRequest, number: int) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, number)
    try:
        followers.follower_add(
            ticket=ticket,
            actor=request.user,  # type: ignore[arg-type]
            email=request.POST.get("email", ""),
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your colleague is copied on this ticket."))
    return _back(number, "#followers")


@require_POST
@login_required
@not_found_as_404
def follower_remove(request: HttpRequest, number: int, user_id: int) -> HttpResponse:
    ticket = selectors.ticket_get_for_user(request.user, number)
    try:
        followers.follower_remove(
            ticket=ticket,
            actor=request.user,  # type: ignore[arg-type]
            user_id=user_id,
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("No longer copied on this ticket."))
    return _back(number, "#followers")


@require_POST
@login_required
@not_found_as_404
def ticket_rate(request: HttpRequest, number: int) -> HttpResponse:
    """The signed-in requester rates the ticket's current solve from its page."""
    ticket = selectors.ticket_get_for_user(request.user, number)
    try:
        if ticket.solved_at is None:
            raise InvalidTransition(_("Only a solved ticket is rated."))
        satisfaction.satisfaction_record(
            ticket=ticket,
            solved_at=ticket.solved_at,
            user=request.user,  # type: ignore[arg-type]
            rating=request.POST.get("rating", ""),
            comment=request.POST.get("comment", ""),
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you for rating our support."))
    return _back(number, "#rating")


def rating_link(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET shows a confirm page, only its POST records a rating.

    No sign-in: the signed token names the ticket, the solve and the requester.
    """
    link = satisfaction.rating_link_read(token)
    if link is None:
        return render(request, "tickets/rating_invalid.html", status=404)
    chosen = request.POST.get("rating") or request.GET.get("rating", "")
    context = {
        "link": link,
        "ticket": link.ticket,
        "chosen": chosen if chosen in Rating.values else "",
        "rating_choices": Rating.choices,
        "comment": request.POST.get("comment", ""),
    }
    status = 200
    if request.method == "POST":
        try:
            rating = satisfaction.satisfaction_record(
                ticket=link.ticket,
                solved_at=link.solved_at,
                user=link.user,
                rating=chosen,
                comment=request.POST.get("comment", ""),
            )
        except ServiceError as error:
            context["error"] = error.message
            status = 400
        else:
            return render(request, "tickets/rating_done.html", {"rating": rating})
    return render(request, "tickets/rating_confirm.html", context, status=status)


@require_GET
@login_required
@not_found_as_404
def attachment_thumbnail(
    request: HttpRequest, number: int, attachment_id: int
) -> HttpResponse:
    """A preview of an image attachment, through the attachment's access gate."""
    attachment = selectors.attachment_get_for_user(request.user, number, attachment_id)
    png = thumbnails.thumbnail_png(attachment)
    if png is None:
        raise Http404("No preview for this attachment.")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
