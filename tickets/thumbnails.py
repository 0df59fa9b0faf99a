"""Small PNG previews of image attachments, drawn with Pillow.

Only raster formats Pillow reads safely (no SVG: it is active content). A file
that is too large in pixels (a decompression bomb) or not really an image gets
no preview; the download link stays.
"""

import io
from pathlib import PurePosixPath

from PIL import Image, UnidentifiedImageError

from .models import Attachment

IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp"})
THUMBNAIL_SIZE = (240, 180)
MAX_PIXELS = 40_000_000


def is_image(filename: str) -> bool:
    return PurePosixPath(filename).suffix.lower().lstrip(".") in IMAGE_EXTENSIONS


def thumbnail_png(attachment: Attachment) -> bytes | None:
    """The attachment's preview as PNG bytes, or None if it cannot be one."""
    if not is_image(attachment.filename):
        return None
    try:
        with attachment.file.open("rb") as handle, Image.open(handle) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                return None
            image.thumbnail(THUMBNAIL_SIZE)
            output = io.BytesIO()
            image.convert("RGBA").save(output, format="PNG")
            return output.getvalue()
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,  # Pillow's word for a broken chunk met while decoding (PNG)
        EOFError,
        Image.DecompressionBombError,
    ):
        return None
