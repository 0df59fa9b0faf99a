"""Slack: the announcement texts (pure) and one webhook call (no retries of its own).

Retries are decided by ``services.announcement_send`` from the outcome returned
here, so that every attempt is recorded on the announcement row.
"""

import http.client
import socket
import urllib.error
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from .models import MaintenanceWindow, Phase

NOT_AFFECTED = gettext_lazy(
    "Infrastructure already deployed with Terraform through Scalr is not affected; "
    "only new runs wait until the maintenance is complete."
)

# The transport errors worth another try: refused or reset connections, timeouts,
# a server that hung up. urllib wraps connect-time failures in URLError.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
)


def escape(text: str) -> str:
    """Neutralise Slack's control characters in text we did not write ourselves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _when(moment: datetime) -> str:
    """A Slack date token: each reader sees their own local time; UTC as fallback."""
    fallback = moment.strftime("%H:%M UTC, %a %d %b %Y")
    return (
        f"<!date^{int(moment.timestamp())}^{{time}}, {{date_short_pretty}}|{fallback}>"
    )


def _with_note(text: str, window: MaintenanceWindow) -> str:
    note = window.note.strip()
    if not note:
        return text
    quoted = "\n".join(f">{escape(line)}" for line in note.splitlines())
    return f"{text}\n{quoted}"


def message_text(phase: str, window: MaintenanceWindow) -> str:
    """What #announcements reads for this phase of this window."""
    if phase == Phase.STARTED:
        text = (
            ":construction: "
            + _("*Scalr maintenance has started.* It ends by %(end)s.")
            % {"end": _when(window.ends_at)}
            + "\n"
            + str(NOT_AFFECTED)
        )
        return _with_note(text, window)
    if phase == Phase.ENDED:
        return ":white_check_mark: " + _(
            "*Scalr maintenance is complete.* New runs proceed as usual."
        )
    return ":information_source: " + _(
        "*The Scalr maintenance that started at %(start)s has been cancelled.* "
        "New runs proceed as usual."
    ) % {"start": _when(window.starts_at)}


@dataclass(frozen=True)
class Outcome:
    """What one webhook call came to."""

    delivered: bool
    transient: bool  # worth another attempt
    http_status: int | None = None
    body: str = ""
    retry_after: float | None = None  # seconds, from a 429's Retry-After
    error: str = ""


def _retry_after(headers: dict[str, str] | None) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


def post(*, url: str, text: str, timeout: float) -> Outcome:
    """POST one message to an incoming webhook and classify the answer.

    Slack answers 200 ``ok``; 429 (with Retry-After) and 5xx are worth retrying, any
    other status is final (e.g. 404 ``no_service``: the webhook was removed).
    """
    # No retry handlers: a retry inside the client would be an attempt the
    # announcement row does not know about.
    client = WebhookClient(url=url, timeout=timeout, retry_handlers=[])  # type: ignore[arg-type]
    try:
        response = client.send(text=text, unfurl_links=False, unfurl_media=False)
    except urllib.error.URLError as error:
        transient = isinstance(error.reason, (*TRANSIENT_ERRORS, socket.gaierror))
        return Outcome(delivered=False, transient=transient, error=_describe(error))
    except TRANSIENT_ERRORS as error:
        return Outcome(delivered=False, transient=True, error=_describe(error))
    except SlackRequestError as error:  # a malformed webhook URL
        return Outcome(delivered=False, transient=False, error=_describe(error))
    status = response.status_code
    body = (response.body or "")[:2000]
    if 200 <= status < 300:
        return Outcome(delivered=True, transient=False, http_status=status, body=body)
    return Outcome(
        delivered=False,
        transient=status == 429 or status >= 500,
        http_status=status,
        body=body,
        retry_after=_retry_after(response.headers) if status == 429 else None,
        error=f"HTTP {status}",
    )


def _describe(error: BaseException) -> str:
    """The error's class and message; urllib's messages never contain the URL."""
    return f"{type(error).__name__}: {error}"[:2000]
