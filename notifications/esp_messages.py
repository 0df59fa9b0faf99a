"""The message as each ESP's inbound payload carries it, before anymail parses it.

anymail hands the inbound signal a parsed message; serialising it again re-folds
headers, changes line endings and can re-encode parts. That would break the
sender's DKIM signature and hide what a damaged message really said from our
parser, which repairs the original, and from an operator inspecting a quarantined
one. So the ESP's own copy is what gets stored, where there is one.
"""

import binascii
import logging
from base64 import b64decode
from typing import Any

logger = logging.getLogger(__name__)


# Where each ESP's inbound payload carries the whole message, as anymail reads it.
# A payload of parsed fields only (Mailgun or SendGrid without raw MIME, SES
# through S3, which anymail streams once) has no original to keep.


def _postmark_raw(event: Any) -> str | None:
    return event.get("RawEmail")


def _mailgun_raw(request: Any) -> str | None:
    return request.POST.get("body-mime")


def _sendgrid_raw(request: Any) -> str | None:
    # "Send Raw" posts the message as "email"; the parsed format has "headers".
    return None if "headers" in request.POST else request.POST.get("email")


def _amazon_ses_raw(event: Any) -> str | bytes | None:
    action = event.get("receipt", {}).get("action", {})
    if action.get("type") != "SNS":
        return None
    content = event.get("content")
    if content and action.get("encoding") == "BASE64":
        return b64decode(content.encode("ascii"), validate=True)
    return content


_RAW_MESSAGE = {
    "postmark": _postmark_raw,
    "mailgun": _mailgun_raw,
    "sendgrid": _sendgrid_raw,
    "amazon ses": _amazon_ses_raw,
}


def original_message(esp_name: str, esp_event: Any) -> bytes | None:
    """The message exactly as the ESP relayed it; None for parsed fields only."""
    extract = _RAW_MESSAGE.get(esp_name.lower())
    if extract is None:
        return None
    try:
        raw = extract(esp_event)
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
    except (AttributeError, TypeError, ValueError, binascii.Error):
        # ValueError covers UnicodeEncodeError (a lone surrogate in JSON).
        logger.warning("%s inbound payload: raw message unreadable", esp_name)
        return None
    return raw or None


# What each ESP itself says of the sender's SPF/DKIM/DMARC, where it says it.
# Only "fail" is ever acted on (notifications.senders), so a header the sender
# wrote into the message can count against them but never for them.


def _first_word(value: Any) -> str:
    return str(value or "").strip().split(" ", 1)[0].strip("();").lower()


def _ses_verdicts(event: Any, message: Any) -> dict[str, str]:
    receipt = event.get("receipt", {})
    return {
        name: str(receipt.get(f"{name}Verdict", {}).get("status", "")).lower()
        for name in ("spf", "dkim", "dmarc")
        if receipt.get(f"{name}Verdict")
    }


def _mailgun_verdicts(request: Any, message: Any) -> dict[str, str]:
    verdicts = {
        "spf": _first_word(message.get("X-Mailgun-Spf")),
        "dkim": _first_word(message.get("X-Mailgun-Dkim-Check-Result")),
    }
    return {name: value for name, value in verdicts.items() if value}


def _postmark_verdicts(event: Any, message: Any) -> dict[str, str]:
    # Postmark's own Received-SPF is in the payload's Headers list.
    for header in event.get("Headers") or []:
        if str(header.get("Name", "")).lower() == "received-spf":
            return {"spf": _first_word(header.get("Value"))}
    return {}


def _sendgrid_verdicts(request: Any, message: Any) -> dict[str, str]:
    verdicts = {"spf": _first_word(request.POST.get("SPF"))}
    dkim = str(request.POST.get("dkim") or "").lower()  # "{@example.com : pass}"
    if dkim:
        verdicts["dkim"] = "fail" if "fail" in dkim else "pass"
    return {name: value for name, value in verdicts.items() if value}


_VERDICTS = {
    "postmark": _postmark_verdicts,
    "mailgun": _mailgun_verdicts,
    "sendgrid": _sendgrid_verdicts,
    "amazon ses": _ses_verdicts,
}


def reported_authentication(
    esp_name: str, esp_event: Any, message: Any
) -> dict[str, str]:
    """The ESP's own verdicts on the sender ({"spf": "pass", "dmarc": "fail"})."""
    extract = _VERDICTS.get(esp_name.lower())
    if extract is None:
        return {}
    try:
        return extract(esp_event, message)
    except (AttributeError, TypeError, ValueError):
        logger.warning(
            "%s inbound payload: authentication verdicts unreadable", esp_name
        )
        return {}
