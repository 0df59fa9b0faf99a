"""``parse_message``: raw RFC 822 bytes to a ``ParsedMessage``, never raising.

Pure: no database, no network, no clock. The only outside input is the support
domain, read through ``notifications.tokens`` to recognise our reply addresses.
Parsing uses the standard library's modern API (``policy.default``) for the MIME
structure; header values are decoded from their raw form by ``headers`` so that
unknown charsets and 8-bit bytes degrade to defects instead of exceptions.
"""

import email
import email.policy
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message

from notifications.tokens import token_from_address

from . import autoreply, headers
from .clean import db_safe, db_safe_fields
from .mime import ParsedAttachment, walk_message
from .reply import strip_quoted_history, strip_signature

logger = logging.getLogger(__name__)

_SUBJECT_TICKET_RE = re.compile(r"\[#(\d{1,10})\]")
_TOKEN_HEADERS = (
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "To",
    "Cc",
)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What inbound processing needs from one message; sequences are tuples."""

    from_address: str = ""
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    subject: str = ""
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    date: datetime | None = None
    return_path: str | None = None  # None: absent; "": the null sender <>
    auto_headers: tuple[tuple[str, str], ...] = ()  # the headers autoreply reads
    text: str = ""  # the chosen body as text, quoted history included
    unquoted_text: str = ""  # quoted history removed, signature kept
    reply_text: str = ""  # the new text only: history and signature removed
    attachments: tuple[ParsedAttachment, ...] = field(default=(), repr=False)
    auto_reply: bool = False
    bounce: bool = False
    report: bool = False  # ARF feedback, successful DSN, read receipt
    bounced_recipients: tuple[str, ...] = ()
    subject_ticket_number: int | None = None
    reply_tokens: tuple[str, ...] = ()
    # Raw values, for notifications.senders to read the trusted servers' verdicts.
    authentication_results: tuple[str, ...] = ()
    defects: tuple[str, ...] = ()

    @property
    def machine_generated(self) -> bool:
        """Whether no person wrote this: never a comment, never answered."""
        return self.auto_reply or self.bounce or self.report


class _RawHeaders:
    """The top-level headers as stored, by lower-case name (no registry parsing)."""

    def __init__(self, message: Message) -> None:
        self._values: dict[str, list[str]] = {}
        try:
            items = list(message.raw_items())
        except Exception:
            items = []
        for key, value in items:
            self._values.setdefault(str(key).lower(), []).append(str(value))

    def all(self, name: str) -> list[str]:
        return self._values.get(name.lower(), [])

    def first(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def addresses(
        self,
        name: str,
        defects: list[str],
        *,
        keep_incomplete: bool = False,
        hint: str | None = None,
    ) -> list[tuple[str, str]]:
        return headers.parse_addresses(
            self.all(name), defects, keep_incomplete=keep_incomplete, hint=hint
        )


def _tokens(candidates: Iterable[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for address in candidates:
        try:
            token = token_from_address(address)
        except Exception:  # settings misconfigured: no tokens rather than no parse
            logger.exception("Could not read the support domain for reply tokens")
            return ()
        if token:
            found.setdefault(token, None)
    return tuple(found)


def _subject_ticket(subject: str) -> int | None:
    match = _SUBJECT_TICKET_RE.search(subject)
    return int(match.group(1)) if match else None


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def _sender(
    raw_headers: "_RawHeaders", defects: list[str], hint: str | None
) -> tuple[str, str]:
    """(name, address) of the author: From, or Sender when From names nobody."""
    senders = raw_headers.addresses("From", defects, keep_incomplete=True, hint=hint)
    if not any(address for _name, address in senders):
        senders = raw_headers.addresses("Sender", defects, hint=hint) or senders
    complete = [pair for pair in senders if "@" in pair[1]]
    return (complete or senders or [("", "")])[0]


def _token_sources(
    raw_headers: "_RawHeaders", envelope_recipients: Iterable[str]
) -> list[str]:
    """Every address a reply token may be in: RCPT TO first, then the headers."""
    sources = [*envelope_recipients]
    for name in _TOKEN_HEADERS:
        sources.extend(address for _n, address in raw_headers.addresses(name, []))
    return sources


def _thread_ids(raw_headers: "_RawHeaders") -> tuple[list[str], list[str], list[str]]:
    """The Message-ID, In-Reply-To and References ids, in header order."""
    return (
        headers.parse_message_ids(raw_headers.first("Message-ID")),
        headers.parse_message_ids(raw_headers.first("In-Reply-To")),
        headers.parse_message_ids(" ".join(raw_headers.all("References"))),
    )


def _auto_headers(raw_headers: "_RawHeaders") -> tuple[tuple[str, str], ...]:
    """The decoded values of the headers that mark automatic mail."""
    return tuple(
        (name, headers.decode_header_value(value))
        for name in autoreply.AUTO_HEADERS
        for value in raw_headers.all(name)
    )


def _parse(raw: bytes, envelope_recipients: Iterable[str]) -> ParsedMessage:
    defects: list[str] = []
    raw = headers.repair_header_block(raw, defects)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    raw_headers = _RawHeaders(message)
    walked = walk_message(message)
    attachments, hint = walked.attachments, walked.charset_hint
    text = db_safe(walked.text)  # before the reply is cut out of it
    from_name, from_address = _sender(raw_headers, defects, hint)
    to = raw_headers.addresses("To", defects, hint=hint)
    cc = raw_headers.addresses("Cc", defects, hint=hint)
    reply_to = raw_headers.addresses("Reply-To", defects, hint=hint)
    raw_subject = raw_headers.first("Subject")
    subject = headers.decode_header_value(raw_subject, defects, hint=hint).strip()
    message_ids, in_reply_to, references = _thread_ids(raw_headers)
    date = headers.parse_date(raw_headers.first("Date"), defects)
    return_path = headers.return_path(raw_headers.first("Return-Path"))
    defects.extend(walked.defects)
    unquoted = strip_quoted_history(text)
    # extract_reply(text) is exactly this; reusing stage 1 halves the line scans.
    reply = strip_signature(unquoted).strip()

    auto_headers = _auto_headers(raw_headers)
    classification = autoreply.classify(
        parts=walked.parts,
        auto_headers=auto_headers,
        from_address=from_address,
        from_name=from_name,
        return_path=return_path,
        subject=subject,
        text=text,
    )
    return ParsedMessage(
        from_address=from_address,
        from_name=from_name,
        to=tuple(_dedupe(address for _n, address in to)),
        cc=tuple(_dedupe(address for _n, address in cc)),
        reply_to=tuple(_dedupe(address for _n, address in reply_to)),
        subject=subject,
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=tuple(in_reply_to),
        references=tuple(references),
        date=date,
        return_path=return_path,
        auto_headers=auto_headers,
        text=text,
        unquoted_text=unquoted,
        reply_text=reply,
        attachments=tuple(attachments),
        auto_reply=classification.auto_reply,
        bounce=classification.bounce,
        report=classification.report,
        bounced_recipients=classification.bounced_recipients,
        subject_ticket_number=_subject_ticket(subject),
        reply_tokens=_tokens(_token_sources(raw_headers, envelope_recipients)),
        authentication_results=tuple(raw_headers.all("Authentication-Results")),
        defects=tuple(_dedupe(defects)),
    )


def parse_message(
    raw: bytes, *, envelope_recipients: Iterable[str] = ()
) -> ParsedMessage:
    """Parse one raw message; any failure is recorded in ``defects``, never raised.

    ``envelope_recipients`` are the SMTP RCPT TO addresses (or a webhook's
    envelope), searched first for reply tokens.
    """
    recipients = list(envelope_recipients)
    try:
        return db_safe_fields(_parse(bytes(raw), recipients))
    except Exception as error:  # last resort: a message must never crash ingestion
        logger.exception("Email parsing failed")
        try:
            fallback = ParsedMessage(
                text=db_safe(bytes(raw).decode("utf-8", "replace")),
                reply_tokens=_tokens(recipients),
                defects=(f"ParseError: {type(error).__name__}",),
            )
        except Exception:
            fallback = ParsedMessage(defects=(f"ParseError: {type(error).__name__}",))
        return fallback
