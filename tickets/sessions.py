"""Real-time support sessions: support asks, the customer accepts or proposes a time.

The policy: "Real time collaboration via video conferencing will be requested by
Scalr to progress priority 0-3 issues only if required. Scalr will use the Zoom
system but can use customers' own video conferencing system if required." The
tier decides (``SupportTier.allows_realtime_session``): Business, P0-P3.

A request is a public support reply in the thread (``services.comment_create``)
with the session attached to it, so it is mailed, threaded and answerable by email
like any reply, and moves the ticket to waiting-on-customer. The customer's answer
from the portal is a public comment too, which hands the ticket back to support.
"""

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import (
    InvalidTransition,
    NotAllowed,
    NotFound,
    ValidationFailed,
)

from . import services
from .choices import (
    CommentSource,
    ConferencingProvider,
    Priority,
    SessionStatus,
    Status,
)
from .models import Organization, SupportSession, Ticket

logger = logging.getLogger(__name__)

_validate_url = URLValidator(schemes=["https", "http"])


def session_refusal(ticket: Ticket, *, priority: int | None = None) -> str:
    """Why support may not offer a session on this ticket ('' if it may).

    ``priority`` checks a priority the ticket is about to get instead of its own.
    """
    priority = ticket.priority if priority is None else priority
    tier = ticket.organization.tier
    if not tier.allows_realtime_session(priority):
        if not tier.realtime_sessions:
            return _(
                "Real-time sessions are not part of %(tier)s support; they are "
                "offered on Business tickets only."
            ) % {"tier": tier.name}
        return _(
            "Real-time sessions are offered for priority 0-%(max)d issues only; "
            "this ticket is %(priority)s."
        ) % {
            "max": tier.realtime_max_priority,
            "priority": Priority(priority).label,
        }
    if ticket.status == Status.CLOSED:
        return _("This ticket is closed.")
    return ""


def _clean_link(link: str) -> str:
    link = link.strip()
    try:
        _validate_url(link)
    except ValidationError:
        raise ValidationFailed(
            _("Give the meeting link as a full https:// address."),
            field="session_link",
        ) from None
    return link


def _local_time(moment: datetime, tz_name: str) -> str:
    local = moment.astimezone(ZoneInfo(tz_name))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M %Z}"


def _request_text(
    ticket: Ticket, provider: str, link: str, proposed_at: datetime, note: str
) -> str:
    """The reply's Markdown: what the thread and the email say."""
    when = _local_time(proposed_at, ticket.organization.timezone)
    page = settings.SITE_URL + reverse("tickets:detail", args=[ticket.number])
    parts = [
        _(
            "**Scalr support requests a real-time video session** (%(provider)s) "
            "on %(when)s to progress this issue."
        )
        % {"provider": ConferencingProvider(provider).label, "when": when},
        _("Meeting link: <%(link)s>") % {"link": link},
    ]
    if note:
        parts.append(note)
    parts.append(
        _("Accept this time or propose another one on the ticket page: %(page)s")
        % {"page": page}
    )
    return "\n\n".join(parts)


def _session_provider_link(
    organization: Organization, link: str
) -> tuple[ConferencingProvider, str]:
    """The conferencing system to use and the cleaned meeting link.

    An organisation that prefers its own system gets its standing link when
    the engineer typed none; Zoom sessions always need a link typed.
    """
    provider = (
        ConferencingProvider.CUSTOMER
        if organization.prefers_own_conferencing
        else ConferencingProvider.ZOOM
    )
    if not link.strip() and provider == ConferencingProvider.CUSTOMER:
        link = organization.conferencing_link
    if not link.strip():
        raise ValidationFailed(
            _("Paste the customer's meeting link: they prefer their own system.")
            if provider == ConferencingProvider.CUSTOMER
            else _("Paste the Zoom link for the session."),
            field="session_link",
        )
    return provider, _clean_link(link)


def session_request(
    *,
    ticket: Ticket,
    actor: User,
    proposed_at: datetime,
    link: str = "",
    note: str = "",
) -> SupportSession:
    """Ask the customer for a real-time session; refused for Free tickets and P4.

    Uses the organisation's own conferencing system when it prefers one (its
    standing link if none is given), else Zoom. Posted as a public reply in the
    same transaction, so it is mailed to the ticket's watchers by the outbox.
    """
    if not actor.is_staff:
        raise NotAllowed(_("Only Scalr support can request a real-time session."))
    note = note.strip()
    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("organization__tier")
            .get(pk=ticket.pk)
        )
        if refusal := session_refusal(locked):
            raise NotAllowed(refusal)
        provider, link = _session_provider_link(locked.organization, link)
        if proposed_at <= timezone.now():
            raise ValidationFailed(
                _("Propose a time in the future."), field="session_proposed_at"
            )
        comment = services.comment_create(
            ticket=locked,
            author=actor,
            body=_request_text(locked, provider, link, proposed_at, note),
            source=CommentSource.ADMIN,
        )
        session = SupportSession.objects.create(
            ticket=locked,
            comment=comment,
            requested_by=actor,
            provider=provider,
            link=link,
            proposed_at=proposed_at,
            note=note,
        )
    logger.info("session %s requested on ticket %s", session.pk, locked.number)
    return session


def _answer(
    *,
    session: SupportSession,
    actor: User,
    status: str,
    body: str,
    proposed_at: datetime | None = None,
    note: str = "",
) -> SupportSession:
    if actor.is_staff:
        raise NotAllowed(_("The customer answers a session request."))
    with transaction.atomic():
        locked = (
            SupportSession.objects.select_for_update(of=("self",))
            .select_related("ticket__organization")
            .get(pk=session.pk)
        )
        ticket = locked.ticket
        if not ticket.organization.contacts.filter(user=actor).exists():
            raise NotAllowed(
                _("Only the organisation's contacts can answer a session request.")
            )
        if ticket.status == Status.CLOSED:
            raise InvalidTransition(
                _("This ticket is closed. Open a new ticket to continue.")
            )
        if status == locked.status == SessionStatus.ACCEPTED:
            return locked
        now = timezone.now()
        locked.status = status
        locked.answered_by = actor
        locked.answered_at = now
        fields = ["status", "answered_by", "answered_at"]
        if status == SessionStatus.COUNTER_PROPOSED:
            locked.customer_proposed_at = proposed_at
            locked.customer_note = note
            fields += ["customer_proposed_at", "customer_note"]
        locked.save(update_fields=fields)
        services.comment_create(
            ticket=ticket, author=actor, body=body, source=CommentSource.PORTAL
        )
    logger.info("session %s answered: %s", locked.pk, status)
    return locked


def session_accept(*, session: SupportSession, actor: User) -> SupportSession:
    """The customer accepts support's time; a reply in the thread tells support.

    Accepting an accepted session changes nothing.
    """
    tz_name = session.ticket.organization.timezone
    body = _("Accepted the real-time session on %(when)s.") % {
        "when": _local_time(session.proposed_at, tz_name)
    }
    return _answer(
        session=session, actor=actor, status=SessionStatus.ACCEPTED, body=body
    )


def session_propose(
    *, session: SupportSession, actor: User, proposed_at: datetime, note: str = ""
) -> SupportSession:
    """The customer proposes another time; a reply in the thread tells support."""
    if proposed_at <= timezone.now():
        raise ValidationFailed(_("Propose a time in the future."), field="proposed_at")
    note = note.strip()
    tz_name = session.ticket.organization.timezone
    body = _("Proposed another time for the real-time session: %(when)s.") % {
        "when": _local_time(proposed_at, tz_name)
    }
    if note:
        body = f"{body}\n\n{note}"
    return _answer(
        session=session,
        actor=actor,
        status=SessionStatus.COUNTER_PROPOSED,
        body=body,
        proposed_at=proposed_at,
        note=note,
    )


def session_get_for_user(user: User, ticket: Ticket, session_id: int) -> SupportSession:
    """A session of a ticket the caller already fetched through the access gate."""
    try:
        return SupportSession.objects.select_related("ticket__organization").get(
            pk=session_id, ticket=ticket
        )
    except (SupportSession.DoesNotExist, ValueError, OverflowError):
        raise NotFound("No such session.") from None
