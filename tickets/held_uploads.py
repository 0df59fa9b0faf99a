"""Files kept across a form that came back with an error, so nothing is re-chosen.

A browser never refills a file input, so a form refused for a missing subject
would lose its attachments. Each file that passes the upload checks on its own is
stored under ``attachments/held/`` and the form carries a signed token per file
(salted with the user's id, so a token is useless to anyone else). On the next
submission the tokens are exchanged for the files again. Held files that are never
used are removed by the attachment orphan sweep a day later, since no attachment
row names them.
"""

import uuid
from dataclasses import dataclass

from django.core import signing
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile

from scalr_support.accounts.models import User
from scalr_support.common.errors import ValidationFailed

from .attachments import check_uploads

FOLDER = "attachments/held"
MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class HeldUpload:
    token: str
    filename: str
    size: int


def _salt(user: User) -> str:
    return f"tickets.held-upload:{user.pk}"


def uploads_hold(*, user: User, files: list[UploadedFile]) -> list[HeldUpload]:
    """Store each acceptable file and return its token; refused files are dropped
    (the form says why)."""
    held = []
    for upload in files:
        try:
            check_uploads([upload])
        except ValidationFailed:
            continue
        upload.seek(0)
        name = default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}", upload)
        data = {
            "n": name,
            "f": upload.name,
            "s": upload.size,
            "t": upload.content_type or "application/octet-stream",
        }
        token = signing.dumps(data, salt=_salt(user), compress=True)
        held.append(
            HeldUpload(token=token, filename=upload.name or "", size=upload.size or 0)
        )
    return held


def uploads_read(*, user: User, tokens: list[str]) -> list[HeldUpload]:
    """The held files the tokens name (forged, foreign or expired ones ignored)."""
    found = []
    for token in dict.fromkeys(tokens):
        data = _data(user, token)
        if data is not None:
            found.append(HeldUpload(token=token, filename=data["f"], size=data["s"]))
    return found


def _data(user: User, token: str) -> dict | None:  # type: ignore[type-arg]
    try:
        data = signing.loads(token, salt=_salt(user), max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not str(data.get("n", "")).startswith(
        f"{FOLDER}/"
    ):
        return None
    if not default_storage.exists(data["n"]):
        return None
    return data


def uploads_release(*, user: User, tokens: list[str]) -> list[UploadedFile]:
    """The held files as uploads again, to pass to a service with new ones.

    A token sent twice (a doubled form field) still gives its file once."""
    files = []
    for token in dict.fromkeys(tokens):
        data = _data(user, token)
        if data is None:
            continue
        files.append(
            UploadedFile(
                file=default_storage.open(data["n"]),
                name=data["f"],
                content_type=data["t"],
                size=data["s"],
            )
        )
    return files


def uploads_discard(*, user: User, tokens: list[str]) -> None:
    """Delete held files once they are attached (the sweep would, a day later)."""
    for token in tokens:
        data = _data(user, token)
        if data is not None:
            default_storage.delete(data["n"])


def uploads_after_error(
    *, user: User, tokens: list[str], files: list[UploadedFile]
) -> list[HeldUpload]:
    """What a refused form offers again: files held before plus the new ones."""
    return [
        *uploads_read(user=user, tokens=tokens),
        *uploads_hold(user=user, files=files),
    ]
