"""Byte counts in people's words, for every limit the portal states."""

import math

from django.utils.formats import number_format
from django.utils.translation import ngettext

_UNITS = ("bytes", "KB", "MB", "GB")


def size_text(size: int, *, above: int | None = None) -> str:
    """A size in decimal units with one decimal, as file managers show it.

    With ``above`` (a limit the size exceeds) the figure is rounded up, so a file
    just over the limit never reads as the limit itself ("20.1 MB; the limit is
    20.0 MB", not "20.0 MB; the limit is 20.0 MB").
    """
    if size < 1000:
        return ngettext("%(n)d byte", "%(n)d bytes", size) % {"n": size}
    exponent = min(int(math.log(size, 1000)), len(_UNITS) - 1)
    value = size / 1000**exponent
    shown = (math.ceil(value * 10) if above is not None else round(value * 10)) / 10
    return f"{number_format(shown, 1)} {_UNITS[exponent]}"
