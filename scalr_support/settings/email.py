"""Outgoing mail: files under var/mail/ by default; SMTP or an ESP via EMAIL_URL."""

from importlib.util import find_spec
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from scalr_support.env import VAR_DIR, env


def _anymail_backend(url: str) -> str:
    """``anymail://postmark`` names anymail's Postmark backend; a typo fails at start.

    django-environ's email URLs know SMTP and Django's own backends only. The ESP's
    credentials are ``ANYMAIL_*`` variables (``ANYMAIL`` below), as anymail names
    them: ``ANYMAIL_POSTMARK_SERVER_TOKEN``, ``ANYMAIL_MAILGUN_API_KEY``, ...
    """
    esp = urlsplit(url).netloc.lower()
    if (
        not esp.replace("_", "").isalnum()
        or find_spec(f"anymail.backends.{esp}") is None
    ):
        raise ImproperlyConfigured(
            f"EMAIL_URL {url!r}: anymail has no ESP {esp!r} "
            "(anymail://postmark, anymail://mailgun, anymail://amazon_ses, ...)."
        )
    return f"anymail.backends.{esp}.EmailBackend"


_email_url = env.str("EMAIL_URL", default="")
if _email_url.startswith("anymail://"):
    EMAIL_BACKEND = _anymail_backend(_email_url)
elif _email_url:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# Seconds before a mail server that does not answer counts as a transient failure;
# without it a hung server would hold a worker until the task's hard time limit.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=30.0)
# A delivery claimed longer ago than this belongs to a worker that died; the sweep
# sends it again. Longer than EMAIL_TIMEOUT, so a slow send is never doubled.
EMAIL_OUTBOX_STALE_CLAIM_SECONDS = env.float(
    "EMAIL_OUTBOX_STALE_CLAIM_SECONDS", default=10 * 60.0
)
# A stored inbound message still unprocessed after this long is queued again.
INBOUND_STALE_AFTER_SECONDS = env.float("INBOUND_STALE_AFTER_SECONDS", default=60.0)
# A message stored while a processing task is queued and not yet started gets no
# task of its own (that task takes it), for at most this long; 0: one per message.
INBOUND_TASK_MARK_SECONDS = env.float("INBOUND_TASK_MARK_SECONDS", default=10.0)
# A row the sweep queued is not queued again before this (its task may be waiting
# behind a backlog); after it, the task is presumed lost with a dead worker.
SWEEP_REQUEUE_AFTER_SECONDS = env.float("SWEEP_REQUEUE_AFTER_SECONDS", default=120.0)

ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_WEBHOOK_SECRET"
}
if env.str("ANYMAIL_WEBHOOK_SECRET", default=""):
    ANYMAIL["WEBHOOK_SECRET"] = env.str("ANYMAIL_WEBHOOK_SECRET")

SUPPORT_EMAIL_DOMAIN = env.str("SUPPORT_EMAIL_DOMAIN", default="support.example.com")
DEFAULT_FROM_EMAIL = f"Scalr Support <support@{SUPPORT_EMAIL_DOMAIN}>"
SERVER_EMAIL = f"support@{SUPPORT_EMAIL_DOMAIN}"

# The authserv-ids (RFC 8601) of the receiving servers whose Authentication-Results
# headers are believed: the MTA relaying to receive_mail, or the ESP's (Amazon SES
# writes "amazonses.com"). Their DMARC or SPF "fail" refuses a sender; a header
# with any other authserv-id is ignored, as anyone can write one. Comma-separated.
INBOUND_TRUSTED_AUTHSERV_IDS = env.list("INBOUND_TRUSTED_AUTHSERV_IDS", default=[])

# Inbound mail larger than this is refused before it is parsed (SMTP 552, HTTP 413).
INBOUND_EMAIL_MAX_BYTES = env.int("INBOUND_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# ESP webhooks post the whole message as a form field; allow that much, no more.
DATA_UPLOAD_MAX_MEMORY_SIZE = INBOUND_EMAIL_MAX_BYTES + 1024 * 1024
