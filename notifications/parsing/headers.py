"""Read header values defensively: RFC 2047 words, raw 8-bit bytes, broken syntax.

The email package's header registry raises or leaves surrogate escapes on some
real-world input (unknown charsets in encoded words, 8-bit bytes, unbalanced
quotes), so these helpers work on the raw stored value and never raise. Problems
are appended to the ``defects`` list the caller passes in.
"""

import base64
import binascii
import email.utils
import quopri
import re
from datetime import UTC, datetime

from .charsets import decode_bytes, repair_surrogates

_ENCODED_WORD_RE = re.compile(
    r"=\?(?P<charset>[^?*\s]+)(?:\*[^?\s]*)?\?(?P<encoding>[QqBb])\?(?P<text>[^?]*)\?="
)
_SPACE_BETWEEN_WORDS_RE = re.compile(r"(\?=)\s+(=\?)")
_FOLD_RE = re.compile(r"\r?\n[ \t]*")
_MSG_ID_RE = re.compile(r"<([^<>\s]+)>")
_BARE_ID_RE = re.compile(r"[^\s<>,;\"]+@[^\s<>,;\"]+")
_ADDRESS_RE = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[A-Za-z0-9.\-\[\]_:]+")


def unfold(value: str) -> str:
    return _FOLD_RE.sub(" ", value).strip()


def _decode_word(charset: str, encoding: str, text: str, defects: list[str]) -> str:
    try:
        if encoding in "Bb":
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            data = quopri.decodestring(
                text.replace("_", " ").encode("ascii"), header=True
            )
    except (binascii.Error, ValueError, UnicodeEncodeError):
        defects.append(f"InvalidEncodedWord: {charset}")
        return text
    decoded = decode_bytes(data, charset)
    if decoded.problem:
        defects.append(f"HeaderCharset: {decoded.problem}")
    return decoded.text


def decode_header_value(
    raw: object, defects: list[str] | None = None, *, hint: str | None = None
) -> str:
    """Decode a raw header value (RFC 2047 words, 8-bit bytes) to clean text.

    ``hint``: a charset the message declares elsewhere, tried first for raw bytes.
    """
    if defects is None:
        defects = []
    if raw is None:
        return ""
    value = repair_surrogates(unfold(str(raw)), hint)
    if "=?" not in value:
        return value
    # Whitespace between two adjacent encoded words is not part of the text.
    value = _SPACE_BETWEEN_WORDS_RE.sub(r"\1\2", value)
    return _ENCODED_WORD_RE.sub(
        lambda m: _decode_word(m["charset"], m["encoding"], m["text"], defects), value
    )


def parse_addresses(
    raw_values: list[str],
    defects: list[str],
    *,
    keep_incomplete: bool = False,
    hint: str | None = None,
) -> list[tuple[str, str]]:
    """(display name, address) pairs from raw address header values, in order.

    Names are RFC 2047-decoded after the split, so a decoded comma cannot split
    an address. Unparseable parts fall back to anything that looks like an address.
    With ``keep_incomplete`` (for From), a name without an address or a bare
    local part ("MAILER-DAEMON") is kept when nothing better is there. ``hint``
    is a charset the message declares, tried first for raw 8-bit names.
    """
    pairs: list[tuple[str, str]] = []
    for raw in raw_values:
        value = repair_surrogates(unfold(raw), hint)
        try:
            parsed = email.utils.getaddresses([value])
        except Exception:  # the stdlib parser has raised on hostile input before
            parsed = []
        found = [(name, addr) for name, addr in parsed if addr and "@" in addr]
        if not found and keep_incomplete:
            found = [
                (name, addr)
                for name, addr in parsed
                if (name or addr) and " " not in addr
            ]
        if not found and value.strip():
            found = [("", addr) for addr in _ADDRESS_RE.findall(value)]
            if value.strip() not in ("<>", "undisclosed-recipients:;"):
                defects.append("InvalidAddressHeader")
        for name, addr in found:
            clean = addr.strip().strip("<>").replace(" ", "").replace('"', "")
            clean = repair_surrogates(clean)
            pairs.append((decode_header_value(name, defects, hint=hint).strip(), clean))
    return pairs


_HEADER_LINE_RE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_MAX_HEADER_LINES = 2000


def repair_header_block(raw: bytes, defects: list[str]) -> bytes:
    """Fix the two header-section faults that make the parser lose every header.

    A junk line before the first header (``---- Original email message ----``)
    and a folded value whose continuation lines lost their indentation both end
    the header section early; the first is dropped, the second re-indented.
    """
    blank = re.search(rb"\r?\n\r?\n", raw)
    end = blank.start() if blank else len(raw)
    lines = raw[:end].split(b"\n")
    if len(lines) > _MAX_HEADER_LINES:
        return raw
    start = 1 if lines[0].startswith(b"From ") else 0
    first_header = next(
        (
            i
            for i in range(start, min(len(lines), start + 4))
            if _HEADER_LINE_RE.match(lines[i])
        ),
        None,
    )
    if first_header is None:
        return raw
    changed = first_header > start
    if changed:
        defects.append("LeadingGarbageSkipped")
    out = lines[:start]
    last_header = max(i for i, line in enumerate(lines) if _HEADER_LINE_RE.match(line))
    for index in range(first_header, len(lines)):
        line = lines[index]
        if (
            index < last_header
            and not _HEADER_LINE_RE.match(line)
            and line[:1] not in b" \t"
        ):
            line = b" " + line
            if not changed or "BrokenHeaderFolding" not in defects:
                defects.append("BrokenHeaderFolding")
            changed = True
        out.append(line)
    return b"\n".join(out) + raw[end:] if changed else raw


def parse_message_ids(raw: str | None) -> list[str]:
    """Message-IDs in a Message-ID/In-Reply-To/References value, without brackets."""
    if not raw:
        return []
    value = repair_surrogates(unfold(raw))
    ids = _MSG_ID_RE.findall(value)
    if not ids:
        ids = _BARE_ID_RE.findall(value)
    seen: dict[str, None] = {}
    for message_id in ids:
        seen.setdefault(message_id, None)
    return list(seen)


def parse_date(raw: str | None, defects: list[str]) -> datetime | None:
    """An aware datetime (UTC) from a Date header, or None when unusable."""
    if not raw:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(unfold(repair_surrogates(raw)))
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("InvalidDateHeader")
        return None
    if parsed.tzinfo is None:  # "-0000": the zone is unknown, the time is UTC
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        defects.append("InvalidDateHeader")
        return None


def return_path(raw: str | None) -> str | None:
    """None when absent, "" for the null sender ``<>``, else the address."""
    if raw is None:
        return None
    value = repair_surrogates(unfold(raw))
    match = _ADDRESS_RE.search(value)
    return match.group(0) if match else ""
