"""Reads about accounts: API tokens by key and by owner."""

import hmac

from django.db.models import QuerySet

from scalr_support.common.errors import NotFound

from .models import ApiToken, User
from .services import hash_secret, split_key


def api_token_for_key(key: str) -> ApiToken | None:
    """The live token a key names, with its user; None for anything else.

    The secret is compared in constant time; a revoked token, an unknown prefix and
    a wrong secret all look the same to the caller.
    """
    parts = split_key(key)
    if parts is None:
        return None
    prefix, secret = parts
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.secret_hash, hash_secret(secret)):
        return None
    return token


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def api_token_get_for_user(user: User, token_id: int) -> ApiToken:
    """One of the user's own tokens, or NotFound (someone else's is not found)."""
    try:
        return ApiToken.objects.get(pk=token_id, user=user)
    except (ApiToken.DoesNotExist, ValueError, OverflowError):
        raise NotFound("No such token.") from None


def user_get(user_id: int) -> User | None:
    """An active user by id, or None (for resolving ids sent to the API)."""
    return User.objects.filter(pk=user_id, is_active=True).first()
