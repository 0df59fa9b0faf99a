"""Satisfaction: the requester rates each solve of a ticket, good or bad, once.

The emailed links are signed (``django.core.signing``) and name the ticket, the
solve (its time) and the requester, so no sign-in is needed; they open a small
confirm page whose button POSTs, because mail scanners follow every link in a
message and must not rate a ticket by doing so.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from scalr_support.accounts.models import User
from scalr_support.common.errors import InvalidTransition, ValidationFailed

from .cache import organization_changed
from .choices import Status
from .customer_models import Rating, SatisfactionRating
from .models import Ticket

SALT = "tickets.satisfaction"
LINK_MAX_AGE = 30 * 24 * 3600  # a month to answer
COMMENT_MAX_LENGTH = 2000  # the textarea's ``maxlength``


@dataclass(frozen=True)
class RatingLink:
    ticket: Ticket
    solved_at: datetime
    user: User


def rating_token(ticket: Ticket, user: User) -> str:
    """A signed link token for the ticket's current solve, for ``user``."""
    if ticket.solved_at is None:
        raise ValueError("only a solved ticket has a rating link")
    solved = int(ticket.solved_at.timestamp() * 1_000_000)
    return signing.TimestampSigner(salt=SALT).sign_object(
        {"t": ticket.pk, "s": solved, "u": user.pk}
    )


def rating_link_read(token: str) -> RatingLink | None:
    """The ticket, solve and user a token names; None if forged or expired."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=LINK_MAX_AGE
        )
        ticket = Ticket.objects.select_related("organization").get(pk=data["t"])
        user = User.objects.get(pk=data["u"], is_active=True)
        solved_at = datetime.fromtimestamp(data["s"] / 1_000_000, tz=UTC)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    except (Ticket.DoesNotExist, User.DoesNotExist):
        return None
    return RatingLink(ticket=ticket, solved_at=solved_at, user=user)


def rating_urls(ticket: Ticket, user: User) -> dict[str, str]:
    """Absolute good/bad links for the solved email (the requester's only)."""
    base = settings.SITE_URL + reverse(
        "tickets:rate-link", args=[rating_token(ticket, user)]
    )
    return {value: f"{base}?rating={value}" for value in Rating.values}


def rating_for_solve(ticket: Ticket) -> SatisfactionRating | None:
    if ticket.solved_at is None:
        return None
    return SatisfactionRating.objects.filter(
        ticket=ticket, solved_at=ticket.solved_at
    ).first()


def can_rate(ticket: Ticket, user: User) -> bool:
    return (
        ticket.status == Status.SOLVED
        and ticket.solved_at is not None
        and user.pk == ticket.requester_id
    )


def satisfaction_record(
    *, ticket: Ticket, solved_at: datetime, user: User, rating: str, comment: str = ""
) -> SatisfactionRating:
    """Record the requester's rating of one solve; once (unique per solve).

    Refused when the ticket was reopened since that solve: the customer rates it
    when it is solved again. A closed ticket keeps its last solve rateable.
    """
    if rating not in Rating.values:
        raise ValidationFailed(_("Choose good or bad."), field="rating")
    if user.pk != ticket.requester_id:
        raise ValidationFailed(_("Only the ticket's requester can rate it."))
    # A browser counts a line break as one character against ``maxlength`` but
    # sends it as CRLF: normalise before counting, and refuse (never cut) a
    # longer comment, so nothing the customer wrote is silently dropped.
    comment = comment.replace("\r\n", "\n").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationFailed(
            _("The comment is %(n)s characters; the limit is %(limit)s.")
            % {"n": len(comment), "limit": COMMENT_MAX_LENGTH},
            field="comment",
        )
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        current = locked.solved_at
        if locked.status not in (Status.SOLVED, Status.CLOSED) or (
            current is not None and abs((current - solved_at).total_seconds()) > 0.001
        ):
            raise InvalidTransition(
                _(
                    "This ticket was reopened after that solve; you can rate it "
                    "when it is solved again."
                )
            )
        try:
            with transaction.atomic():
                rated = SatisfactionRating.objects.create(
                    ticket=locked,
                    solved_at=current or solved_at,
                    rated_by=user,
                    rating=rating,
                    comment=comment,
                )
        except IntegrityError:
            raise InvalidTransition(
                _("You already rated this solve. Thank you!")
            ) from None
        organization_changed(locked.organization_id)  # the cached ticket page
    return rated


@dataclass(frozen=True)
class SatisfactionSummary:
    good: int
    bad: int

    @property
    def total(self) -> int:
        return self.good + self.bad

    @property
    def score(self) -> float | None:
        """Share of good ratings, 0..1 (None without ratings)."""
        return self.good / self.total if self.total else None


def satisfaction_by_tier_priority(
    *, start: datetime, end: datetime
) -> dict[tuple[str, int], SatisfactionSummary]:
    """Ratings given in [start, end) by (tier name, priority), in one query.

    The tier is the organisation's current one, as the SLA report names tiers.
    """
    rows = (
        SatisfactionRating.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("ticket__organization__tier__name", "ticket__priority")
        .annotate(
            good=Count("pk", filter=Q(rating=Rating.GOOD)),
            bad=Count("pk", filter=Q(rating=Rating.BAD)),
        )
        .order_by("ticket__organization__tier__position", "ticket__priority")
    )
    return {
        (row["ticket__organization__tier__name"], row["ticket__priority"]): (
            SatisfactionSummary(good=row["good"], bad=row["bad"])
        )
        for row in rows
    }


def satisfaction_total(
    summaries: dict[tuple[str, int], SatisfactionSummary],
) -> SatisfactionSummary:
    return SatisfactionSummary(
        good=sum(s.good for s in summaries.values()),
        bad=sum(s.bad for s in summaries.values()),
    )
