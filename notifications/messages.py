"""Turn a delivery row into an email: templates, threading headers, reply address.

Everything shown comes from rows the recipient may see: bodies only of public
comments, and only tickets of the recipient's organisation (see recipients.py).
"""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from tickets.models import Comment, PriorityChange, Ticket

from .models import EmailDelivery, Event
from .tokens import reply_address, support_address


def ticket_thread_id(ticket: Ticket) -> str:
    """A stable Message-ID every notification of a ticket refers to, for threading."""
    return f"<ticket-{ticket.number}@{settings.SUPPORT_EMAIL_DOMAIN}>"


def _ticket_url(ticket: Ticket, *, staff: bool) -> str:
    if staff:
        path = reverse("admin:tickets_ticket_change", args=[ticket.pk])
    else:
        path = reverse("tickets:detail", args=[ticket.number])
    return settings.SITE_URL + path


def _event_context(delivery: EmailDelivery) -> dict[str, Any]:
    data = delivery.context or {}
    context: dict[str, Any] = {"data": data}
    if comment_id := data.get("comment_id"):
        context["comment"] = (
            Comment.objects.public()
            .select_related("author")
            .filter(pk=comment_id)
            .first()
        )
    if context.get("comment") is not None:
        context["attachments"] = list(context["comment"].attachments.order_by("id"))
    elif delivery.event == Event.TICKET_CREATED and delivery.ticket is not None:
        context["attachments"] = list(
            delivery.ticket.attachments.filter(comment__isnull=True).order_by("id")
        )
    if change_id := data.get("priority_change_id"):
        context["change"] = PriorityChange.objects.filter(pk=change_id).first()
    if delivery.event == Event.PASSWORD_RESET:
        from scalr_support.accounts.password_reset import password_reset_url

        context["reset_url"] = password_reset_url(delivery.recipient)
    if delivery.event == Event.TICKET_SOLVED or Event.TICKET_SOLVED in data.get(
        "also", []
    ):
        from tickets.satisfaction import can_rate, rating_urls

        ticket = delivery.ticket
        if ticket is not None and can_rate(ticket, delivery.recipient):
            context["rating_urls"] = rating_urls(ticket, delivery.recipient)
    if delivery.event == Event.INVITATION:
        from tickets.organizations import invitation_email_context

        context.update(invitation_email_context(data.get("invitation_id")))
    return context


def build_message(delivery: EmailDelivery) -> EmailMultiAlternatives:
    """The delivery's email; the caller loads its recipient and ticket with it."""
    from .parsing.reply import REPLY_MARKER  # the inbound parser strips above it

    recipient = delivery.recipient
    ticket = delivery.ticket
    context: dict[str, Any] = {
        "recipient": recipient,
        "ticket": ticket,
        "is_staff": recipient.is_staff,
        "ticket_url": _ticket_url(ticket, staff=recipient.is_staff)
        if ticket
        else settings.SITE_URL,
        "site_url": settings.SITE_URL,
        "reply_marker": REPLY_MARKER,
        **_event_context(delivery),
    }
    folder = f"notifications/email/{delivery.event}"
    subject = " ".join(render_to_string(f"{folder}/subject.txt", context).split())
    text = render_to_string(f"{folder}/body.txt", context)
    html = render_to_string(f"{folder}/body.html", context)
    headers = {
        "Message-ID": delivery.message_id,
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    reply_to = [support_address()]
    if ticket is not None:
        headers["In-Reply-To"] = ticket_thread_id(ticket)
        headers["References"] = ticket_thread_id(ticket)
        reply_to = [reply_address(ticket_number=ticket.number, user_id=recipient.pk)]
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=f"Scalr Support <{support_address()}>",
        to=[delivery.to_address],
        reply_to=reply_to,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
