"""The ticket page's form as a GET shows it, without building a Django form.

Building ``TicketPageForm`` (deep copies of every field, the model's initial
data, a bound field per widget) and rendering its widgets cost about a quarter
of the page. What the unbound form shows is in two parts:

* the fields every ticket shows alike (the reply box, the radios, the file input,
  the session fields, the reason): rendered once per process and language from a
  real ``TicketPageForm``, and kept; they depend on nothing but the code and the
  language, so a deploy (a new process) is what replaces them. Every field's
  label, help text and radio labels are kept translated for that language too
  (``_text``), as the page would read them (a change of the settings that
  change the catalogues, as tests make, empties what is kept).
* the fields that show the ticket (``seen``, ``view``, the selects): rendered on
  every request by the same widgets, with the values a bound field would give
  them (the selects' tags and options are rendered once too, and joined around
  the ticket's choice: ``forms.SelectParts``), and the assignee options from
  ``queue_page.staff_names()``'s cached list (``staff_options``: read when the
  page's head renders, valid under the ``versions.NAMES`` stamp, which a new,
  renamed or deactivated staff member bumps), their HTML kept per process for
  the stamp and language it was built under.

The side panel's field rows (``_field.html``'s ``field_row``: label, widget,
help) are kept per language too, split where the widget goes (``ROWS``), and
joined per request around the ticket's widget (``ShownForm.rows``); the page
writes them instead of calling the macro, which a posted form still goes through.

``ShownForm`` and ``ShownField`` answer what the templates read of a form and
its bound fields (the same names, methods where Django has methods), so the
page's template takes either; a form that was posted (errors, a collision) is
always the real ``TicketPageForm``. ``tests/tickets/workspace`` compares the two
renderings of the whole page token for token.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from django import forms
from django.forms.utils import ErrorDict, ErrorList
from django.template import engines
from django.utils.safestring import SafeString

from scalr_support.common.language_memo import LanguageMemo

from ..models import Ticket
from . import versions
from .collision import Seen
from .forms import Option, SelectParts, TicketPageForm, option_parts
from .queue_page import staff_names, staff_names_read

# Shown alike on every ticket: rendered once per process and language.
SAME_FOR_ALL = (
    "reply_visibility",
    "reply",
    "reply_attachments",
    "priority_change_reason",
    "session_proposed_at",
    "session_link",
    "session_note",
)
# The fields the page shows as ``field_row``s, and whether with their help text
# (the ticket page's ``show_help``: ``test_ticket_page_cache`` compares the two).
ROWS = {
    "status": False,
    "priority": False,
    "priority_change_reason": True,
    "assignee": False,
    "category": False,
    "scope_exclusion": False,
    "session_proposed_at": False,
    "session_link": False,
    "session_note": False,
}
# Where a row's widget goes: no label or help text holds a NUL.
_WIDGET_MARK = "\0"
# Shown with the ticket's values (and the request's ``view``): rendered per request.
PER_TICKET = (
    "seen",
    "view",
    "status",
    "priority",
    "assignee",
    "category",
    "scope_exclusion",
)


@dataclass(frozen=True)
class ShownChoice:
    """One radio of an unbound choice field, as a template reads a ``BoundWidget``."""

    data: dict[str, Any]
    choice_label: Any
    html: SafeString

    def tag(self, wrap_label: bool = False) -> SafeString:
        return self.html


@dataclass(frozen=True)
class ShownField:
    """A rendered field of the unbound form, as a template reads a ``BoundField``."""

    name: str
    html_name: str
    label: Any
    id_for_label: str
    help_text: Any
    html: SafeString
    initial: Any = None
    choices: tuple[ShownChoice, ...] = ()

    @property
    def errors(self) -> ErrorList:
        return ErrorList()  # an unbound form has none; a new list, never shared

    def value(self) -> Any:
        return self.initial

    def __iter__(self) -> Iterator[ShownChoice]:
        return iter(self.choices)

    def __str__(self) -> SafeString:
        return self.html

    def __html__(self) -> SafeString:
        return self.html


class ShownForm:
    """The unbound ticket page form: its fields by name, no errors, its media.

    ``rows`` are the ``field_row``s of ``ROWS``, as the macro writes them;
    ``media`` is the form's ``Media`` as written (``str``), kept per process: its
    static URLs are the deploy's.
    """

    is_bound = False

    def __init__(
        self,
        fields: dict[str, ShownField],
        media: SafeString,
        rows: dict[str, SafeString],
    ) -> None:
        self.fields = fields
        self.media = media
        self.rows = rows

    def __getitem__(self, name: str) -> ShownField:
        return self.fields[name]

    def __getattr__(self, name: str) -> ShownField:
        try:
            return self.__dict__["fields"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self) -> Iterator[ShownField]:
        return iter(self.fields.values())

    @property
    def errors(self) -> ErrorDict:
        return ErrorDict()

    def non_field_errors(self) -> ErrorList:
        return ErrorList()


@dataclass(frozen=True)
class _Widget:
    """How a bound field of the prototype renders its widget: all but the value."""

    name: str
    html_name: str
    label: Any
    id_for_label: str
    help_text: Any
    widget: forms.Widget
    attrs: dict[str, Any]
    select: SelectParts | None = None

    def shown(self, value: Any, html: str) -> ShownField:
        return ShownField(
            name=self.name,
            html_name=self.html_name,
            label=self.label,
            id_for_label=self.id_for_label,
            help_text=self.help_text,
            html=SafeString(html),
            initial=value,
        )

    def render(self, value: Any) -> ShownField:
        if self.select is not None:
            return self.shown(value, self.select.html(value))
        html = self.widget.render(self.html_name, value, attrs=self.attrs)
        return self.shown(value, html)


@dataclass(frozen=True)
class _Prototype:
    same_for_all: dict[str, ShownField]
    per_ticket: dict[str, _Widget]
    assignee_empty_label: Any
    media: SafeString
    # A row of ROWS: what goes around the widget (the whole row, and "", for a
    # field shown alike on every ticket).
    rows: dict[str, tuple[str, str]]
    # What ``reply_form_shown`` shows for the queue's default view ("").
    reply_fields: dict[str, ShownField]
    reply_rows: dict[str, SafeString]


def _row_parts(shown: ShownField, show_help: bool) -> tuple[str, str]:
    """``field_row``'s output for the field, before and after its widget."""
    template = engines["jinja2"].env.get_template(  # type: ignore[attr-defined]
        "tickets/workspace/_field.html"
    )
    marked = replace(shown, html=SafeString(_WIDGET_MARK))
    head, tail = str(template.module.field_row(marked, show_help=show_help)).split(
        _WIDGET_MARK
    )
    return head, tail


_prototypes: LanguageMemo[_Prototype] = LanguageMemo()


def _text(value: Any) -> Any:
    """A label or help text as the page writes it in the current language.

    ``str`` of a lazy translation is its text now (a ``SafeString`` stays one); the
    prototype is kept per language, so this is what every render would read.
    """
    return value if value is None else str(value)


# The assignee options' HTML by language and NAMES stamp (a few stamps at most).
_staff_html: LanguageMemo[tuple[Option, ...]] = LanguageMemo(max_entries=8)


def _widget_of(field: forms.BoundField) -> _Widget:
    """What ``BoundField.as_widget`` passes the widget for an unbound field."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    select = None
    if isinstance(widget, forms.Select):
        # The assignee's options are the staff of the moment: given per request.
        static = field.name != "assignee"
        choices = None if static else ()
        select = SelectParts.of(widget, field.html_name, attrs, choices)
    return _Widget(
        name=field.name,
        html_name=field.html_name,
        label=_text(field.label),
        id_for_label=field.id_for_label,
        help_text=_text(field.help_text),
        widget=widget,
        attrs=attrs,
        select=select,
    )


def _shown(field: forms.BoundField) -> ShownField:
    choices: tuple[ShownChoice, ...] = ()
    if isinstance(field.field.widget, forms.RadioSelect):
        choices = tuple(
            ShownChoice(
                data=dict(radio.data),
                choice_label=_text(radio.choice_label),
                html=radio.tag(),
            )
            for radio in field
        )
    return ShownField(
        name=field.name,
        html_name=field.html_name,
        label=_text(field.label),
        id_for_label=field.id_for_label,
        help_text=_text(field.help_text),
        html=SafeString(str(field)),
        initial=field.value(),
        choices=choices,
    )


def _prototype() -> _Prototype:
    """The parts of the form that do not depend on the ticket, for this language.

    Built from an unbound ``TicketPageForm`` without a query (its assignee options
    are only read when that select renders, which this does not do).
    """
    return _prototypes.get(None, _prototype_build)


def _prototype_build() -> _Prototype:
    form = TicketPageForm()
    assignee = cast(forms.ModelChoiceField, form.fields["assignee"])
    same_for_all = {name: _shown(form[name]) for name in SAME_FOR_ALL}
    per_ticket = {name: _widget_of(form[name]) for name in PER_TICKET}
    rows = {}
    for name, show_help in ROWS.items():
        if name in same_for_all:
            shown = same_for_all[name]
            head, tail = _row_parts(shown, show_help)
            rows[name] = (head + shown.html + tail, "")
        else:
            rows[name] = _row_parts(per_ticket[name].shown(None, ""), show_help)
    return _Prototype(
        same_for_all=same_for_all,
        per_ticket=per_ticket,
        assignee_empty_label=assignee.empty_label,
        media=SafeString(str(form.media)),
        rows=rows,
        reply_fields={"view": per_ticket["view"].render(""), **same_for_all},
        reply_rows={
            name: SafeString(row)
            for name, (row, _tail) in rows.items()
            if name in same_for_all
        },
    )


def staff_options(found: dict[str, Any]) -> tuple[Option, ...]:
    """The assignee select's options: "Unassigned", then the staff by name.

    ``found`` is what the page's head read of
    ``queue_page.STAFF_CACHE_KEYS``, handed to ``queue_page.staff_names`` (which
    reads and stores the list when missing or stale). The options' HTML is kept
    per language for the stamp it was built under. A thread whose open
    transaction will bump the stamp sees its own uncommitted users: it reads the
    list and keeps nothing.
    """
    empty_label = _prototype().assignee_empty_label
    if versions.pending(versions.NAMES):
        return option_parts([("", empty_label), *staff_names_read()])
    stamp = versions.current(found, versions.NAMES)
    return _staff_html.get(
        stamp, lambda: option_parts([("", empty_label), *staff_names(found)])
    )


def ticket_page_form_shown(
    ticket: Ticket, *, view: str, staff: tuple[Option, ...]
) -> ShownForm:
    """The form a GET of the ticket page shows, as ``TicketPageForm`` renders it.

    The same values as ``TicketPageForm(instance=ticket, initial={"seen": ...,
    "view": view})``: the model's fields as ``model_to_dict`` reads them;
    ``staff`` are the assignee options (``staff_options``).
    """
    prototype = _prototype()
    widgets = prototype.per_ticket
    values = {
        "seen": Seen.of(ticket).token(),
        "view": view,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "scope_exclusion": ticket.scope_exclusion,
    }
    fields = {name: widgets[name].render(value) for name, value in values.items()}
    assignee = widgets["assignee"]
    fields["assignee"] = assignee.shown(
        ticket.assignee_id,
        cast(SelectParts, assignee.select).html(ticket.assignee_id, staff),
    )
    fields.update(prototype.same_for_all)
    same = prototype.same_for_all
    rows = {
        name: SafeString(head if name in same else head + fields[name].html + tail)
        for name, (head, tail) in prototype.rows.items()
    }
    return ShownForm(fields, prototype.media, rows)


def reply_form_shown(view: str) -> ShownForm:
    """The form a GET shows around the page's kept head (``page_head``).

    The fields shown alike on every ticket (the reply box, the session fields)
    and the request's ``view``, kept per language for the default view; the head
    holds what shows the ticket (``seen``, the selects, their rows), from
    ``ticket_page_form_shown``. The dicts are shared, never changed.
    """
    prototype = _prototype()
    fields = prototype.reply_fields
    if view:
        fields = {**fields, "view": prototype.per_ticket["view"].render(view)}
    return ShownForm(fields, prototype.media, prototype.reply_rows)
