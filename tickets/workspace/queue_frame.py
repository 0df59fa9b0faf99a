"""The queue page's frame kept per process: the page around its rows, CSRF token
and clock, written once for the values it shows.

With the rows cached and the toolbars remembered (``remembered``), writing the
rest of the page (the admin frame, the tabs, the toolbars, the pager: some 10 KB)
was the largest cost left of a warm queue request. What the template writes is
a function of the context the view passes, except for three values that change
on every request: the rows (their SLA badges count down), the CSRF token (masked
anew per page) and the page's clock (``data-now``, which the countdowns start
from). So the page is written once per process for the rest of the context
(``frame_key``), with a random marker in place of each of the three, and cut at
the markers; every later request with the same key joins the pieces with its
own three values, escaped as the template escapes them.

The markers are 128 random bits drawn for that one rendering, after every value
the page shows was read, so no text in the page (a saved view's name, a staff
name, a search term) can hold one; a rendering that does not cut into exactly
the expected pieces is not kept. Nothing needs invalidating: the key holds every
value the template reads, templates change only with a deploy (a new process),
and the memo is emptied at ``FRAMES`` entries and with the translations
(``LanguageMemo``, which also keys it by language).
"""

import re
import secrets
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from django.core.paginator import Page
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.functional import Promise
from markupsafe import Markup, escape

from scalr_support.common.jinja2 import frozen, utc_offset
from scalr_support.common.language_memo import LanguageMemo

FRAMES = 256  # kept per process: ~10 KB of pieces and up to ~20 KB of key each
# The context values written per request, never kept.
PER_REQUEST = ("rows_html", "csrf_field", "clock")
# How the rest is keyed: plain values as they are, lists and dicts frozen
# (``frozen``, as ``remembered`` keys its arguments), the rest by ``_KEYED_BY``.
_PLAIN = (str, int, type(None))  # bool is an int


def _user(user: Any) -> Hashable:
    # What the frame and the bulk bar write of the viewer.
    return (
        user.pk,
        user.get_short_name() or user.get_username(),
        user.is_staff,
        user.is_active,
        user.has_usable_password(),
    )


def _page(page: Page) -> Hashable:
    # The pager writes the page's number, its bounds and its neighbours.
    return (page.number, page.paginator.count, page.paginator.per_page)


_KEYED_BY: dict[str, Callable[[Any], Hashable]] = {
    "user": _user,
    "page": _page,
    "rows": bool,  # only whether there are any (the empty list's message)
    "opts": lambda opts: opts.label,
    "query": lambda query: query,  # a frozen dataclass of plain values
}


def frame_key(context: Mapping[str, Any]) -> Hashable | None:
    """What the page writes besides ``PER_REQUEST``, as a key; None when it must
    be written in full (messages to show, or a value this module cannot key:
    a new context value needs its rule in ``_KEYED_BY`` to be kept)."""
    messages = context.get("messages")
    if messages is not None and len(messages):
        return None  # shown once, then gone: never part of a kept page
    key: list[Hashable] = [
        timezone.get_current_timezone_name(),
        utc_offset(),  # the frame's data-admin-utc-offset: moves with DST
        get_script_prefix(),
    ]
    for name, value in context.items():
        if name in PER_REQUEST or name == "messages":
            continue
        rule = _KEYED_BY.get(name)
        if rule is not None:
            key.append((name, rule(value)))
        elif isinstance(value, _PLAIN):
            key.append((name, value))
        elif isinstance(value, list | tuple | dict):  # the tabs, links, options
            key.append((name, frozen(value)))
        elif isinstance(value, Promise):  # a lazy translation, in this language
            key.append((name, str(value)))
        else:
            return None
    return tuple(key)


_FRAMES: LanguageMemo[tuple[str, ...] | None] = LanguageMemo(max_entries=FRAMES)


def _pieces(
    render: Callable[[dict[str, Any]], str], context: dict[str, Any]
) -> tuple[str, ...] | None:
    """The page cut at ``PER_REQUEST``'s places: text, name, text, name, … text.

    None (not kept) unless the rows and the clock are each written exactly once.
    """
    markers = {name: secrets.token_hex(16) for name in PER_REQUEST}
    marked = {**context, **{name: Markup(m) for name, m in markers.items()}}  # noqa: S704 - hex digits
    names = {marker: name for name, marker in markers.items()}
    parts = re.split(f"({'|'.join(names)})", render(marked))
    pieces = tuple(part if i % 2 == 0 else names[part] for i, part in enumerate(parts))
    slots = pieces[1::2]
    if slots.count("rows_html") != 1 or slots.count("clock") != 1:
        return None
    return pieces


def render_framed(
    render: Callable[[dict[str, Any]], str], context: dict[str, Any]
) -> str:
    """``render(context)``, from the kept frame where its key has one."""
    key = frame_key(context)
    try:
        pieces = (
            None if key is None else _FRAMES.get(key, lambda: _pieces(render, context))
        )
    except TypeError:  # a value its rule left unhashable (a list in a dict)
        pieces = None
    if pieces is None:
        return render(context)
    # Escaped as ``{{ }}`` escapes: the rows and the token are markup already.
    return "".join(
        part if i % 2 == 0 else escape(context[part]) for i, part in enumerate(pieces)
    )


class FramedResponse(TemplateResponse):
    """A ``TemplateResponse`` whose page comes from ``render_framed``."""

    @property
    def rendered_content(self) -> str:
        template = self.resolve_template(self.template_name)
        request: HttpRequest | None = self._request
        return render_framed(
            lambda context: template.render(context, request),
            dict(self.resolve_context(self.context_data) or {}),
        )
