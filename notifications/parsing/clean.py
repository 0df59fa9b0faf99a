"""Characters PostgreSQL refuses, taken out while a message is parsed.

A text column cannot hold NUL, and a lone surrogate (what a broken charset or a
JSON ``"\\ud800"`` decodes to) cannot be encoded as UTF-8 for the database at
all; either one made saving the comment raise and the message fail every try.
Parsing removes NUL and replaces a lone surrogate by U+FFFD, in every string a
``ParsedMessage`` carries (subject, body, header values, filenames), so nothing
after parsing needs to care.
"""

import dataclasses
import re
from typing import Any, TypeVar

_NUL = "\x00"
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_REFUSED_RE = re.compile("[\x00\ud800-\udfff]")

T = TypeVar("T")


def db_safe(value: str) -> str:
    """``value`` without NUL, lone surrogates shown as U+FFFD."""
    if not _REFUSED_RE.search(value):
        return value
    return _SURROGATE_RE.sub("\ufffd", value.replace(_NUL, ""))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return db_safe(value)
    if isinstance(value, tuple):
        return tuple(_clean(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return db_safe_fields(value)
    return value


def db_safe_fields(obj: T) -> T:
    """A copy of the dataclass ``obj`` with every string in it made ``db_safe``.

    Returns ``obj`` itself when nothing needed cleaning (the common case).
    """
    changes = {}
    for item in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, item.name)
        cleaned = _clean(value)
        if cleaned != value or type(cleaned) is not type(value):
            changes[item.name] = cleaned
    return dataclasses.replace(obj, **changes) if changes else obj  # type: ignore[type-var]
