"""Values built once per process and language, forgotten when the catalogues change.

The workspace's pages keep what they show alike on every request in a language
(translated literals, fixed blocks, option lists, the ticket form's fixed
fields). What such a value holds depends only on the code, the language and the
translation catalogues, which Django loads once per process; every memo is
emptied when a setting that changes the catalogues changes
(``override_settings`` in tests), and code or templates change only with a
deploy, a new process.
"""

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation

# The settings that change what Django's gettext answers (as django.test.signals
# knows them), and INSTALLED_APPS, whose locale folders hold catalogues too.
TRANSLATION_SETTINGS = frozenset(
    {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "USE_I18N", "INSTALLED_APPS"}
)

T = TypeVar("T")

_MEMOS: "list[LanguageMemo[Any]]" = []


class LanguageMemo(Generic[T]):
    """``build()`` once per (active language, key); ``max_entries`` bounds it."""

    def __init__(self, max_entries: int | None = None) -> None:
        self._values: dict[tuple[str | None, Hashable], T] = {}
        self.max_entries = max_entries
        _MEMOS.append(self)

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        memo_key = (translation.get_language(), key)
        try:
            return self._values[memo_key]
        except KeyError:
            pass
        if self.max_entries is not None and len(self._values) >= self.max_entries:
            self._values.clear()
        value = self._values[memo_key] = build()
        return value

    def clear(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting in TRANSLATION_SETTINGS:
        for memo in _MEMOS:
            memo.clear()
