"""The internal-note canary: a unique string that customers must never receive.

Plant it with ``plant_canary`` (an internal note, with a file whose name carries it
too), let the channel under test do its work, then pass everything a customer
could receive (pages, API bodies, emails, Slack posts) to ``assert_no_canary``.
Email and Slack tests reuse these two functions.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from scalr_support.accounts.models import User
from tickets import services
from tickets.models import Comment, Ticket


@dataclass(frozen=True)
class Canary:
    """The planted note and the string that must not leak."""

    value: str
    note: Comment

    @property
    def needles(self) -> tuple[str, ...]:
        # The value and a distinctive slice, in case a channel truncates or wraps.
        return (self.value, self.value[-12:])


def plant_canary(ticket: Ticket, author: User) -> Canary:
    """Write an internal note (and an attachment) carrying a fresh unique string."""
    value = f"CANARY-internal-{uuid.uuid4().hex}"
    note = services.comment_create(
        ticket=ticket,
        author=author,
        body=f"Internal only: {value}",
        is_public=False,
        files=[SimpleUploadedFile(f"{value}.txt", value.encode())],
    )
    return Canary(value=value, note=note)


def _as_text(item: str | bytes | object) -> str:
    if isinstance(item, bytes):
        return item.decode("utf-8", errors="replace")
    if isinstance(item, str):
        return item
    # An EmailMessage (subject, body, alternatives) or anything printable.
    parts = [str(getattr(item, attr, "")) for attr in ("subject", "body")]
    for content, _mimetype in getattr(item, "alternatives", []) or []:
        parts.append(str(content))
    return "\n".join(parts) if any(parts) else str(item)


def assert_no_canary(
    canary: Canary, items: Iterable[str | bytes | object], *, where: str = ""
) -> None:
    """Fail, naming the leak, if any item contains the canary."""
    for index, item in enumerate(items):
        text = _as_text(item)
        for needle in canary.needles:
            assert needle not in text, (
                f"internal note leaked to a customer {where} (item {index}): "
                f"...{text[max(0, text.find(needle) - 80) : text.find(needle) + 80]}..."
            )
