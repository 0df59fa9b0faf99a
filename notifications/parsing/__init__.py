"""Inbound email parsing: pure functions from raw bytes to what a comment needs.

``parse_message`` is the entry point; ``ticket_reference_hint`` is the part of
threading that needs no database (the threading service extends it with stored
Message-IDs and the sender's authority). See docs/email-parsing.md.
"""

from notifications.tokens import reply_token_read

from .message import ParsedMessage, parse_message
from .mime import ParsedAttachment
from .reply import REPLY_MARKER, extract_reply, strip_quoted_history, strip_signature

__all__ = [
    "REPLY_MARKER",
    "ParsedAttachment",
    "ParsedMessage",
    "extract_reply",
    "parse_message",
    "strip_quoted_history",
    "strip_signature",
    "ticket_reference_hint",
]


def ticket_reference_hint(parsed: ParsedMessage) -> int | None:
    """The ticket a message names without looking anything up, or None.

    The first reply token whose signature verifies wins (it also names the
    recipient, so it is authoritative); else the ``[#123]`` subject tag, which
    anyone can type and which threading must check against the sender.
    """
    for token in parsed.reply_tokens:
        verified = reply_token_read(token)
        if verified is not None:
            return verified.ticket_number
    return parsed.subject_ticket_number
