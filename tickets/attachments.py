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
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from scalr_support.common.errors import ValidationFailed

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
                    "size": filesizeformat(size),
                    "limit": filesizeformat(max_bytes),
                },
                field="attachments",
            )
        if size == 0:
            raise ValidationFailed(
                _("%(name)s is empty.") % {"name": filename}, field="attachments"
            )
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
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
