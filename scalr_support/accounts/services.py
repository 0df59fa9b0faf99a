"""Writes about accounts: personal API tokens.

A token is made and revoked only here, so the rules (how a key looks, how it is
stored, how many a person may hold) live in one place for the portal page, the
management command and the tests.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scalr_support.common.errors import ValidationFailed

from .models import ApiToken, User, available_timezones

logger = logging.getLogger(__name__)

KEY_SCHEME = "sst"  # "Scalr support token": easy to spot in secret scanners
MAX_ACTIVE_TOKENS = 20
TOKEN_NAME_MAX_LENGTH = 100
# last_used_at is advisory; writing it at most this often keeps reads read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its key; the key exists only in this object, never stored."""

    token: ApiToken
    key: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """Return (prefix, secret) of a well-formed key, else None."""
    scheme, _sep, rest = key.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not prefix or not secret or len(prefix) > 16:
        return None
    return prefix, secret


def api_token_create(*, user: User, name: str) -> IssuedToken:
    """Issue a new key for the user; the caller shows ``key`` once and forgets it.

    Refuses inactive users, empty names and more than MAX_ACTIVE_TOKENS live keys.
    The prefix is unique in the database; a collision (32 random bits) retries.
    """
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(_("Give the token a name."), field="name")
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise ValidationFailed(
            _("Keep the name under %(n)d characters.") % {"n": TOKEN_NAME_MAX_LENGTH},
            field="name",
        )
    if not user.is_active:
        raise ValidationFailed(_("This account is not active."))
    with transaction.atomic():
        # Lock the user row so two concurrent requests cannot both pass the cap.
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise ValidationFailed(
                _("You already have %(n)d active tokens; revoke one first.")
                % {"n": MAX_ACTIVE_TOKENS},
                field="name",
            )
        prefix = secrets.token_hex(4)
        while ApiToken.objects.filter(prefix=prefix).exists():
            prefix = secrets.token_hex(4)  # pragma: no cover - 1 in 4 billion
        secret = secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user, name=name, prefix=prefix, secret_hash=hash_secret(secret)
        )
    logger.info("api token created user_id=%s prefix=%s", user.pk, prefix)
    return IssuedToken(token=token, key=f"{KEY_SCHEME}_{prefix}_{secret}")


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token for good. Idempotent: revoking twice keeps the first time."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            logger.info(
                "api token revoked user_id=%s prefix=%s", locked.user_id, locked.prefix
            )
    token.revoked_at = locked.revoked_at
    return locked


def api_token_mark_used(*, token: ApiToken) -> None:
    """Record that the token was used, at most once per LAST_USED_RESOLUTION.

    A single conditional UPDATE, outside any transaction of the request, so that
    concurrent requests with one token never wait on each other.
    """
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < (
        LAST_USED_RESOLUTION
    ):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def user_time_zone_set(*, user: User, time_zone: str) -> User:
    """Show this person every time in ``time_zone`` (an IANA name; "" for UTC)."""
    if time_zone and time_zone not in available_timezones():
        raise ValidationFailed(
            _("Choose a time zone from the list."), field="time_zone"
        )
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user
