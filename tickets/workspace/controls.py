"""The queue's select options as HTML, written in Python like its rows.

Eight selects of the filter and bulk bars loop over priorities, tiers, staff and
states in the template, a few tags per option; one function writing the
``<option>`` elements costs a fraction of that. Values and labels are escaped
with ``html.escape`` (what Django's ``escape`` calls).
"""

from collections.abc import Callable, Hashable, Iterable
from html import escape
from typing import Any, TypeVar, cast

from django.utils.safestring import SafeString

from scalr_support.common.language_memo import LanguageMemo

T = TypeVar("T")


def options_html(
    choices: Iterable[tuple[object, object]], selected: str = ""
) -> SafeString:
    """``<option>`` elements of (value, label) pairs; ``selected`` marks one value."""
    parts = []
    for value, label in choices:
        key = str(value)
        mark = " selected" if selected and key == selected else ""
        parts.append(
            f'<option value="{escape(key)}"{mark}>{escape(str(label))}</option>'
        )
    # Every value and label above is escaped.
    return SafeString("".join(parts))


# (language, key) -> a value built once; see ``remember``.
_REMEMBERED: LanguageMemo[Any] = LanguageMemo()


def remember(key: Hashable, build: Callable[[], T]) -> T:
    """``build()`` once per process and language, under ``key``.

    For what the queue shows alike on every request in a language: the fixed
    option lists, the tabs' labels and links. ``key`` must come from a small set
    (the callers' names and validated values), which bounds the entries. What
    is kept depends on the code, the language and the URLconf (a caller whose
    value holds a URL puts it in the key); the entries are emptied when a
    setting that changes the catalogues changes.
    """
    return cast(T, _REMEMBERED.get(key, build))


def remembered_options(
    name: str,
    choices: Callable[[], Iterable[tuple[object, object]]],
    selected: str = "",
) -> SafeString:
    """``options_html(choices(), selected)`` once per process, language and choice.

    For the lists fixed in the code (priorities, statuses, SLA states, bulk
    actions), whose labels change only with the language. ``selected`` must be
    one of the list's values or empty (the caller validates it).
    """
    return remember(
        ("options", name, selected), lambda: options_html(choices(), selected)
    )
