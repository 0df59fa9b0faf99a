"""Password reset requests: rate-limited, mailed through the outbox after commit.

Django's own view sends the mail inside the request, to a link built from the
request's Host header, and only for known accounts, so a forged Host gets a link
to itself and the answer's timing says whether an account exists. Here the
request only counts and hands the address to a task, the same work for a known
and an unknown address; the task looks the account up and writes the mail to the
outbox, which a worker sends after commit, with a link built from ``SITE_URL``.
"""

import hashlib
import logging
import time
import uuid

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from scalr_support.common.errors import ServiceError
from scalr_support.common.events import publish
from scalr_support.common.tasks import enqueue

from .events import PasswordResetRequested
from .models import User

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60 * 60


class TooManyRequests(ServiceError):
    """Too many reset requests for one address or from one client in the window."""


def _over_limit(scope: str, key: str, limit: int) -> bool:
    """Count one request in this hour's window of ``scope``/``key``; True when over.

    A fixed window in the shared cache: an unreachable cache counts nothing
    rather than refusing everyone.
    """
    window = int(time.time() // WINDOW_SECONDS)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    name = f"password-reset:{scope}:{digest}:{window}"
    try:
        cache.add(name, 0, WINDOW_SECONDS)
        count = cache.incr(name)
    except Exception:  # any backend failure: do not lock everyone out
        logger.warning("cache unavailable; password reset requests not counted")
        return False
    return int(count) > limit


def password_reset_url(user: User) -> str:
    """A one-use link to choose a new password, on ``SITE_URL``, valid from now."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def password_reset_request(*, email: str, client_address: str) -> None:
    """Ask for a reset link to every active account with this address; maybe none.

    Refused with ``TooManyRequests`` past ``PASSWORD_RESET_LIMIT_PER_ACCOUNT``
    requests an hour for one address (known or not, so the refusal says nothing
    about the account) or ``PASSWORD_RESET_LIMIT_PER_CLIENT`` from one client
    address. Otherwise the address goes to ``password_reset_mail`` with a fresh
    request key: nothing here reads the accounts, so a known and an unknown
    address take the same time. A request the broker cannot take is logged and
    lost; the visitor, told to check their mail, asks again.
    """
    from .tasks import password_reset_mail

    normalized = email.strip().lower()
    over_account = _over_limit(
        "account", normalized, settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT
    )
    over_client = _over_limit(
        "client", client_address, settings.PASSWORD_RESET_LIMIT_PER_CLIENT
    )
    if over_account or over_client:
        raise TooManyRequests(
            _(
                "Too many password reset requests. Wait an hour, or use the link "
                "in the email we already sent."
            )
        )
    enqueue(password_reset_mail, normalized, uuid.uuid4().hex)


def password_reset_queue(*, email: str, request_key: str) -> int:
    """Write the reset mail of one request to the outbox; returns how many accounts.

    At-least-once, de-duplicated by (``password-reset:<request_key>``, recipient):
    the task delivered twice mails nobody twice. The token is made when the mail
    is sent, so none is stored.
    """
    users = [
        user
        for user in User.objects.filter(email__iexact=email, is_active=True)
        if user.has_usable_password()
    ]
    with transaction.atomic():
        if users:
            publish(PasswordResetRequested(request_key=request_key, users=users))
    logger.info("password reset requested (%d accounts)", len(users))
    return len(users)
