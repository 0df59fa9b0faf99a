"""Walk a MIME tree: pick the body text, collect attachments and inline images.

The body is the ``text/plain`` alternative when it has content, else the HTML one
converted to text. Body parts inside ``multipart/mixed`` (Apple Mail splits the
text around inline images) are joined in order. Every other leaf is an
attachment, ``message/rfc822`` included (kept whole as an ``.eml``). Nothing here
raises: a part that cannot be decoded becomes a defect and, where possible, an
attachment with its raw bytes.
"""

import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message

from .charsets import decode_bytes, repair_surrogates
from .clean import db_safe
from .headers import decode_header_value, unfold
from .html import html_to_text

MAX_FILENAME_LENGTH = 200
_UNSAFE_FILENAME_RE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
_EXTENSIONS = {
    "message/rfc822": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "message/feedback-report": ".txt",
    "text/plain": ".txt",
    "application/ms-tnef": ".dat",
    "image/jpeg": ".jpg",
}


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str
    content_type: str
    size: int
    content: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False


@dataclass
class _Walk:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts: list[tuple[str, Message]] = field(default_factory=list)  # every part, typed
    charset_hint: str | None = None  # the first charset a text part declares


@dataclass(frozen=True, slots=True)
class _PartInfo:
    content_type: str
    charset: str | None
    disposition: str | None
    filename: str | None  # decoded, not yet cleaned


def _header_params(
    part: Message, name: str, defects: list[str]
) -> tuple[str, dict[str, str]]:
    """(main value, parameters) of a MIME header, parsed once; ("", {}) if absent."""
    try:
        header = part.get(name)
    except Exception:
        defects.append(f"Invalid{name.replace('-', '')}Header")
        return "", {}
    if header is None:
        return "", {}
    value = getattr(header, "content_type", None) or getattr(
        header, "content_disposition", None
    )
    try:
        raw_params = getattr(header, "params", {})
        params = {key: repair_surrogates(str(val)) for key, val in raw_params.items()}
    except Exception:
        params = {}
    return (value or "").lower(), params


_RAW_NAME_RE = re.compile(
    r'(?i)(?:^|;)\s*(?:file)?name\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]+)'
)


def raw_header(message: Message, name: str) -> str | None:
    """A header's value as stored (8-bit bytes still escaped), or None."""
    try:
        items = list(message.raw_items())
    except Exception:
        return None
    return next(
        (str(value) for key, value in items if key.lower() == name.lower()), None
    )


def _raw_param_filename(part: Message, hint: str | None) -> str | None:
    """A filename sent as raw 8-bit bytes (the header registry made them U+FFFD)."""
    try:
        items = list(part.raw_items())
    except Exception:
        return None
    for key, value in items:
        if key.lower() in ("content-disposition", "content-type"):
            match = _RAW_NAME_RE.search(unfold(str(value)))
            if match:
                return repair_surrogates(match.group(1).strip('"'), hint)
    return None


def _part_info(part: Message, defects: list[str], hint: str | None) -> _PartInfo:
    """Content type, charset, disposition and filename, reading each header once.

    The email package re-parses a header on every accessor call; a message has
    many parts and each needs these four values, so they are read here together.
    """
    content_type, type_params = _header_params(part, "Content-Type", defects)
    if content_type.count("/") != 1:
        try:
            content_type = part.get_default_type()
        except Exception:
            content_type = "text/plain"
    disposition, disposition_params = _header_params(
        part, "Content-Disposition", defects
    )
    name = disposition_params.get("filename") or type_params.get("name")
    if name and "\ufffd" in name:
        name = _raw_param_filename(part, type_params.get("charset") or hint) or name
    return _PartInfo(
        content_type=content_type,
        charset=type_params.get("charset"),
        disposition=disposition or None,
        filename=decode_header_value(name, defects, hint=hint) if name else None,
    )


def clean_filename(name: str) -> str:
    """A filename safe to store and show: no path, no control characters.

    A NUL is dropped rather than shown as "_": it was never part of the name.
    """
    name = unicodedata.normalize("NFC", db_safe(name))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME_RE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_FILENAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH]
    return name


def _extension(content_type: str) -> str:
    known = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type)
    if known:
        return known
    maintype, _, subtype = content_type.partition("/")
    if maintype == "text":
        return ".txt"
    if maintype == "image" and re.fullmatch(r"[a-z0-9]{2,5}", subtype):
        return "." + subtype
    return ".bin"


def _first_charset(message: Message) -> str | None:
    try:
        for part in message.walk():
            charset = part.get_param("charset")
            if isinstance(charset, str) and charset:
                return charset
    except Exception:
        return None
    return None


def _fallback_filename(
    part: Message, content_type: str, index: int, hint: str | None
) -> str:
    """A name for an unnamed part: from its Content-ID, description or type."""
    extension = _extension(content_type)
    if content_type == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            raw_subject = raw_header(inner[0], "Subject") or ""
            if not raw_subject.isascii():
                hint = _first_charset(inner[0]) or hint
            subject = clean_filename(decode_header_value(raw_subject, hint=hint))
            if subject:
                return subject + ".eml"
        return "message.eml"
    content_id = decode_header_value(part.get("Content-ID", "")).strip().strip("<>")
    local = clean_filename(content_id.partition("@")[0])
    if re.fullmatch(r"[^.]+\.[A-Za-z0-9]{2,5}", local):
        return local  # Outlook: <image001.png@01D...>
    description = clean_filename(
        decode_header_value(part.get("Content-Description", ""))
    )
    if description and len(description) <= 60:
        return (
            description
            if description.lower().endswith(extension)
            else description + extension
        )
    named = {
        "message/delivery-status": "delivery-status",
        "text/rfc822-headers": "headers",
    }
    if content_type in named:
        return named[content_type] + extension
    if content_type.startswith("image/"):
        return f"image-{index}{extension}"
    return f"attachment-{index}{extension}"


def _payload_bytes(part: Message, content_type: str, defects: list[str]) -> bytes:
    try:
        if content_type.startswith("message/") or part.is_multipart():
            inner = part.get_payload()
            if isinstance(inner, list):
                return b"".join(
                    _as_bytes(sub) for sub in inner if isinstance(sub, Message)
                )
        data = part.get_payload(decode=True)
    except Exception as error:
        defects.append(f"UndecodablePayload: {type(error).__name__}")
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return bytes(data)


def _as_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes()
    except Exception:
        try:
            return message.as_string().encode("utf-8", "surrogateescape")
        except Exception:
            return b""


def _text_of(part: Message, info: _PartInfo, walk: _Walk) -> str:
    data = _payload_bytes(part, info.content_type, walk.defects)
    decoded = decode_bytes(data, info.charset)
    if decoded.problem:
        walk.defects.append(f"TextCharset: {decoded.problem}")
    return decoded.text


def _add_attachment(
    part: Message, info: _PartInfo, walk: _Walk, *, related: bool
) -> None:
    content_type, disposition = info.content_type, info.disposition
    filename = clean_filename(info.filename) if info.filename else ""
    if not filename:
        filename = _fallback_filename(
            part, content_type, len(walk.attachments) + 1, walk.charset_hint
        )
    content = _payload_bytes(part, content_type, walk.defects)
    raw_id = part.get("Content-ID")
    content_id = decode_header_value(raw_id).strip().strip("<>") if raw_id else ""
    inline = disposition == "inline" or (
        disposition is None and related and bool(content_id)
    )
    walk.attachments.append(
        ParsedAttachment(
            filename=filename,
            content_type=content_type,
            size=len(content),
            content=content,
            content_id=content_id or None,
            inline=inline,
        )
    )


def _walk(part: Message, walk: _Walk, *, related: bool = False, depth: int = 0) -> None:
    info = _part_info(part, walk.defects, walk.charset_hint)
    if info.charset and not walk.charset_hint:
        walk.charset_hint = info.charset
    content_type = info.content_type
    walk.parts.append((content_type, part))
    for defect in getattr(part, "defects", ()):
        walk.defects.append(type(defect).__name__)
    if depth > 50:
        walk.defects.append("MimeNestingTooDeep")
        return
    if part.is_multipart() and content_type.startswith("multipart/"):
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if content_type == "multipart/alternative":
            _walk_alternative(children, walk, related=related, depth=depth)
        elif content_type == "multipart/related" and children:
            _walk(children[0], walk, depth=depth + 1)
            for child in children[1:]:
                _walk(child, walk, related=True, depth=depth + 1)
        else:
            for child in children:
                _walk(child, walk, related=related, depth=depth + 1)
        return
    if (
        content_type in ("text/plain", "text/html")
        and info.filename is None
        and info.disposition != "attachment"
    ):
        target = walk.plain if content_type == "text/plain" else walk.html
        target.append(_text_of(part, info, walk))
        return
    _add_attachment(part, info, walk, related=related)


def _walk_alternative(
    children: list[Message], walk: _Walk, *, related: bool, depth: int
) -> None:
    """Keep the text of the best alternative; rich alternatives' resources stay."""
    plain_walks: list[_Walk] = []
    for child in children:
        sub = _Walk()
        _walk(child, sub, related=related, depth=depth + 1)
        walk.defects.extend(sub.defects)
        walk.parts.extend(sub.parts)
        plain_walks.append(sub)
    plain = next((sub.plain for sub in plain_walks if "".join(sub.plain).strip()), [])
    html = next((sub.html for sub in reversed(plain_walks) if sub.html), [])
    walk.plain.extend(plain)
    walk.html.extend(html)
    for sub in plain_walks:
        walk.attachments.extend(sub.attachments)


@dataclass(frozen=True, slots=True)
class WalkResult:
    text: str
    attachments: list[ParsedAttachment]
    defects: list[str]
    parts: list[tuple[str, Message]]  # (content type, part) of every part, in order
    charset_hint: str | None  # the first charset the message declares, if any


def walk_message(message: Message) -> WalkResult:
    """The body text, attachments, defects and typed parts of a parsed message."""
    walk = _Walk()
    _walk(message, walk)
    plain = "\n".join(text for text in walk.plain if text.strip())
    if plain.strip():
        text = plain
    else:
        text = "\n\n".join(html_to_text(html) for html in walk.html if html.strip())
    text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    return WalkResult(
        text, walk.attachments, walk.defects, walk.parts, walk.charset_hint
    )
