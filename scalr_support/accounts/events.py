"""What accounts tell the apps above them (notifications mails the reset link)."""

from collections.abc import Sequence
from dataclasses import dataclass

from scalr_support.common.events import Event

from .models import User


@dataclass(frozen=True)
class PasswordResetRequested(Event):
    """Reset mail is due to ``users``, once per ``request_key`` and user."""

    request_key: str
    users: Sequence[User]
