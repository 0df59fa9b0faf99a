"""The rules that read other rows: our own mail, the sender's rate, duplicates.

One function for a message alone and for a batch's run, so the two paths cannot
disagree about which messages pass.
"""

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import CharField, Count, IntegerField, Value
from django.db.models.functions import Upper
from django.utils import timezone

from tickets.models import Comment, Ticket

from ..models import EmailDelivery, InboundMessage, InboundStatus

if TYPE_CHECKING:
    from ..parsing import ParsedMessage

logger = logging.getLogger(__name__)


SENDER_RATE_LIMIT = 20  # messages per sender ...
SENDER_RATE_WINDOW = timedelta(minutes=10)  # ... in this window


def _has_our_domain(parsed: "ParsedMessage") -> bool:
    """Whether the Message-ID is one we made (no query needed)."""
    if not parsed.message_id:
        return False
    domain = parsed.message_id.strip("<>").rpartition("@")[2].lower()
    return domain == settings.SUPPORT_EMAIL_DOMAIN.lower()


@dataclass(frozen=True)
class Screening:
    """What the other rows say about a message, in the order it is decided."""

    ours: bool  # a Message-ID of a notification we sent
    rate_limited: bool  # the sender passed SENDER_RATE_LIMIT in the window
    duplicate: bool  # a comment or ticket already carries the dedupe key

    @property
    def passed(self) -> bool:
        return not (self.ours or self.rate_limited or self.duplicate)


def messages_screen(
    messages: Sequence[InboundMessage],
    parsed: Sequence["ParsedMessage"],
    keys: Sequence[str],
) -> list[Screening]:
    """Screen messages in arrival order, as if each earlier one that passes was added.

    The single path screens a run of one; the batch path its whole run, so a
    duplicate or a sender's twenty-first message inside the batch is caught as it
    would be one at a time. The sender match is case-insensitive, as addresses
    are, and served by the ``inbound_sender_ci`` index. Only messages that became
    comments or tickets count towards the rate: those were the sender's own (the
    evidence vouched for them), so neither auto-replies nor mail forged in their
    name can use up a customer's allowance. The duplicate check is only a
    shortcut: the unique constraints on both Message-ID columns still settle two
    deliveries racing (``IntegrityError``). One query, however many messages.
    """
    ours, taken, recent = _other_rows(messages, parsed, keys)
    screenings = []
    for parsed_message, key in zip(parsed, keys, strict=True):
        sender = (parsed_message.from_address or "").upper()
        screening = Screening(
            ours=bool(parsed_message.message_id)
            and _as_stored(parsed_message.message_id or "") in ours,
            rate_limited=bool(sender) and recent[sender] >= SENDER_RATE_LIMIT,
            duplicate=key in taken,
        )
        screenings.append(screening)
        if screening.passed:
            taken.add(key)
            recent[sender] += 1
    return screenings


def _other_rows(
    messages: Sequence[InboundMessage],
    parsed: Sequence["ParsedMessage"],
    keys: Sequence[str],
) -> tuple[set[str], set[str], Counter[str]]:
    """Our Message-IDs among theirs, the keys already taken, recent mail per sender.

    One ``UNION ALL`` of four small selects: (kind, value, count) rows.
    """
    senders = {p.from_address.upper() for p in parsed if p.from_address}
    kind = Value("", output_field=CharField())
    one = Value(1, output_field=IntegerField())
    parts = [
        EmailDelivery.objects.filter(
            message_id__in=[_as_stored(p.message_id) for p in parsed if p.message_id]
        ).values_list("message_id", Value("ours", output_field=CharField()), one),
        Comment.objects.filter(email_message_id__in=keys).values_list(
            "email_message_id", kind, one
        ),
        Ticket.objects.filter(email_message_id__in=keys).values_list(
            "email_message_id", kind, one
        ),
        InboundMessage.objects.annotate(sender=Upper("from_address"))
        .filter(
            sender__in=senders,
            received_at__gte=timezone.now() - SENDER_RATE_WINDOW,
            status=InboundStatus.PROCESSED,
        )
        .exclude(pk__in=[message.pk for message in messages])
        .values("sender")
        .annotate(n=Count("pk"))
        .values_list("sender", Value("recent", output_field=CharField()), "n"),
    ]
    ours: set[str] = set()
    taken: set[str] = set()
    recent: Counter[str] = Counter()
    rows = parts[0].union(*parts[1:], all=True)
    for value, what, count in rows:
        if what == "ours":
            ours.add(value)
        elif what == "recent":
            recent[value] = count
        else:
            taken.add(value)
    return ours, taken, recent


def _as_stored(message_id: str) -> str:
    """A Message-ID as our deliveries store theirs: in angle brackets."""
    return f"<{message_id.strip('<>')}>"


def _dedupe_key(message: InboundMessage, parsed: "ParsedMessage") -> str:
    return (parsed.message_id or f"<sha256-{message.raw_sha256}>")[:998]
