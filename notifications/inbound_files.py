"""Which of an email's attachments a comment keeps, and the note naming the rest.

The portal's limits apply (``tickets.attachments.check_uploads``): a file too
large or empty is refused with its own sentence, and past the count limit every
further file is refused for the same reason, which is said once with the files'
names. When anything is refused the note also names what was kept, so the
customer and support see at once which files arrived.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from scalr_support.common.errors import ValidationFailed
from tickets.attachments import check_uploads

from .parsing import ParsedAttachment


def attachments_checked(
    attachments: tuple[ParsedAttachment, ...],
) -> tuple[list[SimpleUploadedFile], str]:
    """The uploads to keep, and the note for the comment ("" if none refused)."""
    kept: list[SimpleUploadedFile] = []
    refused: dict[str, list[str]] = {}  # reason -> the files refused for it
    for item in attachments:
        name = item.filename or "attachment"
        upload = SimpleUploadedFile(name, item.content, item.content_type)
        try:
            check_uploads([upload], already_attached=len(kept))
        except ValidationFailed as error:
            refused.setdefault(error.message, []).append(name)
            continue
        kept.append(upload)
    return kept, _note(kept, refused)


def _note(kept: list[SimpleUploadedFile], refused: dict[str, list[str]]) -> str:
    if not refused:
        return ""
    lines = [_("_Attachments not added:_")]
    for reason, names in refused.items():
        if len(names) == 1 and names[0] in reason:
            lines.append(f"- {reason}")  # the sentence names its file already
        else:
            lines.append(
                _("- %(reason)s Not added: %(names)s.")
                % {"reason": reason, "names": ", ".join(names)}
            )
    if kept:
        lines.append(
            _("_Attachments added:_ %(names)s.")
            % {"names": ", ".join(upload.name or "" for upload in kept)}
        )
    return "\n".join(lines)
