"""Uploaded files: validated before anything about them is written, served as bytes.

Files are stored under server-generated names (see ``attachment_upload_to``); the
name the customer gave is kept only as data and is never used as a path.
"""

import hashlib
import mimetypes
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from scalr_support.common.errors import ValidationFailed
from scalr_support.common.sizes import size_text

if TYPE_CHECKING:
    from .models import Attachment

# Served inline by browsers they would be active content; always downloaded as bytes.
_ACTIVE_TYPES = {
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
}


# First bytes of native executables: Windows PE, ELF, Mach-O (thin, fat), shebang.
_EXECUTABLE_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
    b"#!",
)


def _extension(filename: str) -> str:
    return PurePosixPath(filename).suffix.lower().lstrip(".")


def type_refusal(filename: str, head: bytes) -> str | None:
    """Why a file may not be attached (a program or a script), or None.

    By name (the deny list, or an allow list that leaves it out) and by content:
    a renamed executable still starts with its magic bytes.
    """
    extension = _extension(filename)
    allowed = [e.lower().lstrip(".") for e in settings.ATTACHMENT_ALLOWED_EXTENSIONS]
    if allowed:
        if extension not in allowed:
            return _(
                "%(name)s cannot be attached: only these types are accepted: %(types)s."
            ) % {"name": filename, "types": ", ".join(f".{e}" for e in allowed)}
        return None
    denied = {e.lower().lstrip(".") for e in settings.ATTACHMENT_DENIED_EXTENSIONS}
    if extension in denied or (denied and head.startswith(_EXECUTABLE_MAGIC)):
        return _(
            "%(name)s cannot be attached: programs and scripts are refused. "
            "Paste a script's text into the reply, or attach logs and screenshots."
        ) % {"name": filename}
    return None


def limits_text() -> str:
    """The attachment limits, for the help text next to every upload field."""
    return _(
        "Up to %(count)d files, %(size)s each. Programs and scripts (.exe, .js, "
        ".ps1, .sh, …) are refused."
    ) % {
        "count": settings.ATTACHMENT_MAX_COUNT,
        "size": size_text(settings.ATTACHMENT_MAX_BYTES),
    }


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    upload: UploadedFile
    filename: str
    content_type: str
    size: int
    sha256: str


def clean_filename(name: str) -> str:
    """Keep only the last path part, printable, at most 255 characters."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable())
    base = base.strip().strip(".") or "attachment"
    if len(base) > 255:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: 250 - len(suffix)] + dot + suffix) if dot else base[:255]
    return base


def served_content_type(filename: str) -> str:
    """Guess from the name only; never trust what the client claimed."""
    guessed, _encoding = mimetypes.guess_type(filename)
    if not guessed or guessed in _ACTIVE_TYPES:
        return "application/octet-stream"
    return guessed


def check_uploads(
    files: Sequence[UploadedFile], *, already_attached: int = 0
) -> list[CheckedUpload]:
    """Refuse the whole batch if any file breaks a limit, naming the file."""
    max_count: int = settings.ATTACHMENT_MAX_COUNT
    max_bytes: int = settings.ATTACHMENT_MAX_BYTES
    if len(files) + already_attached > max_count:
        raise ValidationFailed(
            _("At most %(count)d files can be attached.") % {"count": max_count},
            field="attachments",
        )
    checked = []
    for upload in files:
        filename = clean_filename(upload.name or "")
        size = upload.size or 0
        if size > max_bytes:
            raise ValidationFailed(
                _("%(name)s is %(size)s; the limit is %(limit)s per file.")
                % {
                    "name": filename,
                    "size": size_text(size, above=max_bytes),
                    "limit": size_text(max_bytes),
                },
                field="attachments",
            )
        if size == 0:
            raise ValidationFailed(
                _("%(name)s is empty.") % {"name": filename}, field="attachments"
            )
        digest = hashlib.sha256()
        head = b""
        for chunk in upload.chunks():
            head = head or bytes(chunk[:8])
            digest.update(chunk)
        upload.seek(0)
        if refusal := type_refusal(filename, head):
            raise ValidationFailed(refusal, field="attachments")
        checked.append(
            CheckedUpload(
                upload=upload,
                filename=filename,
                content_type=served_content_type(filename),
                size=size,
                sha256=digest.hexdigest(),
            )
        )
    return checked


def attachment_response(attachment: "Attachment") -> FileResponse:
    """The file as a download that no browser runs, sniffs or keeps.

    Portal and API serve attachments through their access gates, then here.
    """
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
