"""Signed reply addresses: ``support+<token>@<SUPPORT_EMAIL_DOMAIN>``.

The token names the ticket and the recipient and carries an HMAC (a key derived
from SECRET_KEY), so a reply can be threaded without trusting anything else in the
message, and a token cannot be forged or moved to another ticket or person. A
token signed with a key in SECRET_KEY_FALLBACKS still verifies, so rotating the key
does not break replies to mail already sent. It is lower-case letters and digits
only, because some mail servers change the case of local parts.
"""

import base64
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

_SALT = "scalr_support.notifications.reply-token"
_SIGNATURE_LENGTH = 20
_TOKEN_RE = re.compile(
    r"^t(?P<ticket>[0-9]{1,10})r(?P<user>[0-9]{1,12})s(?P<sig>[a-z2-7]{20})$"
)


@dataclass(frozen=True, slots=True)
class ReplyToken:
    ticket_number: int
    user_id: int


def _signature(ticket_number: int, user_id: int, *, secret: str | None = None) -> str:
    """The token's signature with ``secret`` (None: the current SECRET_KEY)."""
    digest = salted_hmac(
        _SALT, f"{ticket_number}:{user_id}", secret=secret, algorithm="sha256"
    ).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:_SIGNATURE_LENGTH]


def reply_token_make(*, ticket_number: int, user_id: int) -> str:
    return f"t{ticket_number}r{user_id}s{_signature(ticket_number, user_id)}"


def reply_token_read(token: str) -> ReplyToken | None:
    """Return what a token names; None if it is malformed or wrongly signed."""
    match = _TOKEN_RE.match(token.strip().lower())
    if match is None:
        return None
    ticket_number, user_id = int(match["ticket"]), int(match["user"])
    # Mail sent before a SECRET_KEY rotation carries the old key's signature;
    # replies to it keep threading while the old key is in SECRET_KEY_FALLBACKS.
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(
        hmac.compare_digest(
            match["sig"], _signature(ticket_number, user_id, secret=secret)
        )
        for secret in secrets
    ):
        return None
    return ReplyToken(ticket_number=ticket_number, user_id=user_id)


def support_address() -> str:
    return f"support@{settings.SUPPORT_EMAIL_DOMAIN}"


def reply_address(*, ticket_number: int, user_id: int) -> str:
    token = reply_token_make(ticket_number=ticket_number, user_id=user_id)
    return f"support+{token}@{settings.SUPPORT_EMAIL_DOMAIN}"


def token_from_address(address: str) -> str | None:
    """The ``+token`` part of one of our addresses, unverified; None for others."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if domain.lower() != settings.SUPPORT_EMAIL_DOMAIN.lower():
        return None
    base, plus, token = local.partition("+")
    if base.lower() != "support" or not plus or not token:
        return None
    return token
