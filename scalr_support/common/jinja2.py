"""The Jinja2 environment of the ``jinja2`` template engine (settings' TEMPLATES).

The agent workspace's pages (``jinja2_templates/tickets/workspace/``) render
through it: Django's template language spent milliseconds of CPU a page
resolving tags, variables, translations and includes, and a page may spend only
about 2 ms above a signed-in no-op. The environment gives those pages what the
Django templates they replaced had, and writes the same HTML:

- autoescaping, always on, with Django's entities: ``finalize`` escapes every
  ``{{ }}`` value that is not already safe with ``html.escape`` (``&#x27;`` and
  ``&quot;``, where MarkupSafe would write ``&#39;`` and ``&#34;``). Values with
  ``__html__`` (Django's ``SafeString``, forms, bound fields, media, our own
  escaped fragments) are written as they are, exactly as Django's templates do;
- ``{% trans %}`` and ``_()`` (``translate``) through Django's ``gettext``
  (remembered per language) and ``ngettext``, newstyle: the translation's own
  text is markup, as a translated literal is in Django's templates, and its variables
  are escaped by MarkupSafe, with its entities unless a variable comes through
  ``|e`` (which writes Django's, like ``finalize``): user text in a
  ``{% trans %}`` takes ``|e``;
- the few Django filters and tags the pages use, as filters and globals
  (``date`` after the templates' conversion to the current zone, ``capfirst``,
  ``linebreaksbr``, ``json_script``, ``url``, ``now_formatted``, ``utc_offset``,
  ``zone_abbreviation``, the current language and zone);
- ``once``: a block of literals and translations rendered once per language,
  and ``remembered``: a macro's output once per language and arguments;
- a missing variable writes nothing, as in Django's templates.

No context processor runs for this engine: a view passes what its page shows.
"""

from collections import ChainMap
from collections.abc import Callable, Hashable, KeysView, MutableMapping
from datetime import datetime
from html import escape
from typing import Any

from django.template import defaultfilters
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import json_script
from jinja2 import Environment, Undefined
from markupsafe import Markup

from .language_memo import LanguageMemo


def escape_like_django(value: Any) -> Any:
    """A ``{{ }}`` value escaped as Django's ``conditional_escape`` would.

    Jinja2 still escapes what this returns; a ``Markup`` passes through unchanged.
    """
    if hasattr(value, "__html__"):
        return value
    return Markup(escape(str(value)))  # noqa: S704 - escaped on this line


def date(value: Any, format_string: str | None = None) -> str:
    """Django's ``date`` filter, after its conversion to the current time zone."""
    local = timezone.template_localtime(value)  # type: ignore[attr-defined]
    return defaultfilters.date(local, format_string)


def now_formatted(format_string: str) -> str:
    """What Django's ``{% now %}`` tag writes: the current time in the current zone."""
    current = datetime.now(tz=timezone.get_current_timezone())
    return defaultfilters.date(current, format_string)


def _zone_shown(local: datetime) -> bool:
    """Whether Django's date formats write the zone of this local time: not in a
    DST fold or gap (``django.utils.dateformat``'s ambiguity check)."""
    return local.replace(fold=not local.fold).utcoffset() == local.utcoffset()


def utc_offset() -> int | str:
    """What ``{% now "Z" %}`` writes (the current zone's UTC offset in seconds),
    without Django's ``DateFormat``, which the frame ran for it on every page."""
    current = datetime.now(tz=timezone.get_current_timezone())
    offset = current.utcoffset()
    if offset is None or not _zone_shown(current):
        return ""
    return offset.days * 86400 + offset.seconds


def zone_abbreviation(local: datetime) -> str:
    """What ``|date("T")`` writes of a local time ("EST"), without ``DateFormat``."""
    return str(local.tzname()) if _zone_shown(local) else ""


def url(name: str, *args: Any) -> str:
    """Django's ``{% url %}`` with positional arguments."""
    return reverse(name, args=args)


# (language, literal) -> what ``_(literal)`` writes; see ``translate``.
TRANSLATED_MAX = 2000
_TRANSLATED: LanguageMemo[Markup] = LanguageMemo(max_entries=TRANSLATED_MAX)


# (language, message) -> Django's gettext of it; see ``remembered_gettext``.
_GETTEXT: LanguageMemo[str] = LanguageMemo(max_entries=TRANSLATED_MAX)


def remembered_gettext(message: str) -> str:
    """Django's ``gettext``, remembered per language (the same reasoning and
    emptying as ``translate``): what ``{% trans %}`` blocks and ``_()`` with
    variables translate before formatting their variables, which change."""
    return _GETTEXT.get(message, lambda: translation.gettext(message))


def translate(message: str, **variables: Any) -> Markup:
    """The templates' ``_()``: Jinja2's newstyle ``_``, remembered per language.

    Jinja2's own ``_`` goes through three context calls, Django's ``gettext`` and
    a format for each of the 50-70 literals of a page. What a literal becomes
    depends only on the active language and the catalogues, which Django loads
    once per process, so the result (the same ``Markup``, formatted as newstyle
    does) is kept under (language, literal). The memo is emptied when a setting
    that changes the catalogues changes (``override_settings`` in tests), and
    before it would pass ``TRANSLATED_MAX`` entries (should a template ever
    translate a variable). With variables it formats every time.
    """
    if variables:
        return Markup(remembered_gettext(message)) % variables  # noqa: S704
    # A translation's text is markup, as in Jinja2's newstyle gettext.
    return _TRANSLATED.get(
        message,
        lambda: Markup(translation.gettext(message)) % {},  # noqa: S704
    )


# (language, key) -> what a ``{% call once(key) %}`` block wrote; see ``once``.
_ONCE: LanguageMemo[Markup] = LanguageMemo()


def once(key: str, *, caller: Callable[[], str]) -> Markup:
    """A ``{% call once("page:part") %}…{% endcall %}`` block's output, rendered
    once per process and language.

    For the parts of a page that are the same on every request in a language
    (table heads, help dialogs: literals and ``_()`` only), which otherwise cost
    a context call and an escape per translation on every request. The block
    must read nothing of the request; ``key`` names it (unique per page and
    part). Emptied with the translations (a setting that changes the
    catalogues); templates change only with a deploy, a new process.
    """
    # A call block's body is markup, escaped as it rendered.
    return _ONCE.get(key, lambda: Markup(caller()))  # noqa: S704


# (language, key, arguments) -> what a remembered macro wrote; see ``remembered``.
REMEMBERED_MAX = 2000
_REMEMBERED: LanguageMemo[Markup] = LanguageMemo(max_entries=REMEMBERED_MAX)


def frozen(value: Any) -> Hashable:
    """``value`` as a key: lists and tuples as tuples, dicts as their items
    (whose values must be hashable: a list in a dict raises ``TypeError``)."""
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple(value.items())
    return value  # type: ignore[no-any-return]


def remembered(key: str, macro: Callable[..., str], *args: Any) -> Markup:
    """``{{ remembered("page:part", macro, *args) }}``: ``macro(*args)``, rendered
    once per process, language and arguments.

    For the parts of a page that are the same for the same values on every
    request (a toolbar of the query's filters and the page's option lists), whose
    translations, tags and escapes otherwise cost on every request. The macro
    must come from a template imported without context, so that it reads only
    its arguments and the environment's globals, and must write nothing of the
    time, the zone or the request (no CSRF token): what it writes is then a
    function of the key, the language and the arguments, which are the memo's
    key (compared by value), and needs no invalidation. ``key`` names the part.
    At ``REMEMBERED_MAX`` entries the memo is emptied (a search term, new counts
    make their own entries); it is emptied with the translations too.
    """
    # A macro's output is markup, escaped as it rendered.
    return _REMEMBERED.get(
        (key, frozen(args)),
        lambda: Markup(macro(*args)),  # noqa: S704
    )


FILTERS: dict[str, Callable[..., Any]] = {
    "e": escape_like_django,
    "escape": escape_like_django,
    "date": date,
    # Django's filters themselves: they keep a safe input safe and escape the rest.
    "capfirst": defaultfilters.capfirst,
    "linebreaksbr": defaultfilters.linebreaksbr,
    "json_script": json_script,
}
GLOBALS: dict[str, Callable[..., Any]] = {
    "url": url,
    "now_formatted": now_formatted,
    "utc_offset": utc_offset,
    "zone_abbreviation": zone_abbreviation,
    "get_language": translation.get_language,
    "get_language_bidi": translation.get_language_bidi,
    "get_current_timezone": timezone.get_current_timezone,
    "once": once,
    "remembered": remembered,
}


class _Globals(ChainMap[str, Any]):
    """A template's globals over the environment's, the ``ChainMap`` Jinja2 makes
    (``Environment.make_globals``), whose ``keys()`` is a dict's view.

    Every ``{% from … import %}`` subtracts the imported template's globals'
    keys from the importing one's (``Template._get_default_module``); against a
    ChainMap's keys that is a membership test in Python per global, some ten to
    twenty microseconds an import (three a page), where a dict's view subtracts
    in C. The view is a snapshot of the keys; lookups still go through the maps.
    """

    def keys(self) -> KeysView[str]:
        merged: dict[str, Any] = {}
        for mapping in reversed(self.maps):
            merged.update(mapping)
        return merged.keys()


class _Environment(Environment):
    def make_globals(
        self, d: MutableMapping[str, Any] | None
    ) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)


def environment(**options: Any) -> Environment:
    """The engine's environment (``OPTIONS["environment"]`` in TEMPLATES)."""
    # Always autoescaped, whatever the settings say.
    options.pop("autoescape", None)
    # Django's templates keep a file's last newline; so do ours.
    options.setdefault("keep_trailing_newline", True)
    # A missing value writes nothing, as in Django's templates, under DEBUG too
    # (where the backend would pick DebugUndefined, which writes "{{ name }}").
    options["undefined"] = Undefined
    extensions = [*options.pop("extensions", []), "jinja2.ext.i18n"]
    env = _Environment(
        autoescape=True,
        finalize=escape_like_django,
        extensions=extensions,
        **options,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=remembered_gettext,
        ngettext=translation.ngettext,
        pgettext=translation.pgettext,
        npgettext=translation.npgettext,
        newstyle=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    # After the extension's own ``_``; {% trans %} blocks keep its gettext.
    env.globals["_"] = translate
    return env
