"""Forms of the workspace: the ticket page, a bulk action, saving a queue view."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html import escape
from typing import Any, cast

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from scalr_support.accounts.models import User

from ..admin import TicketTriageForm
from ..choices import Priority, ScopeExclusion, Status
from . import queues
from .bulk import ACTIONS, BULK_MAX, BulkChange
from .macros import placeholder_errors
from .models import Macro
from .queues import is_number

Option = tuple[str, str, str]  # the value, then the option's HTML around " selected"


def option_parts(choices: Iterable[tuple[Any, Any]]) -> tuple[Option, ...]:
    """Each option's HTML, split where ``selected`` goes for the chosen ones."""
    # html.escape (what format_html's escape calls) per value: format_html
    # per option cost most of the page's form.
    return tuple(
        (key, f'<option value="{escape(key)}"', f">{escape(str(label))}</option>")
        for key, label in ((str(v), label) for v, label in choices)
    )


@dataclass(frozen=True)
class SelectParts:
    """A select as Django's own templates would write it, split at each choice.

    The ticket page renders its selects' tags and options once per process and
    language and joins them with the ticket's value on each request.
    """

    widget: forms.Select
    head: str
    options: tuple[Option, ...]

    @classmethod
    def of(
        cls,
        widget: forms.Select,
        name: str,
        attrs: Any,
        choices: Iterable[tuple[Any, Any]] | None = None,
    ) -> "SelectParts":
        final = widget.build_attrs(widget.attrs, {**(attrs or {}), "name": name})
        listed = widget.choices if choices is None else choices
        return cls(
            widget, format_html("<select{}>", flatatt(final)), option_parts(listed)
        )

    def html(self, value: Any, options: tuple[Option, ...] | None = None) -> SafeString:
        """The select with ``value`` chosen, and ``options`` instead of its own."""
        chosen = {str(v) for v in self.widget.format_value(value)}
        listed = self.options if options is None else options
        return SafeString(
            self.head
            + "".join(
                f"{start}{' selected' if key in chosen else ''}{end}"
                for key, start, end in listed
            )
            + "</select>"
        )


def select_html(widget: forms.Select, name: str, value: Any, attrs: Any) -> SafeString:
    """A select as Django's own templates would write it."""
    return SelectParts.of(widget, name, attrs).html(value)


def _quick_render(widget: forms.Widget, name: str, value: Any, attrs: Any) -> str:
    """An input, textarea or select as Django's own templates would write it.

    In Python: Django's widget templates (one per option of a select) cost more
    than the rest of the ticket page's side panel.
    """
    if isinstance(widget, forms.Select):
        return select_html(widget, name, value, attrs)
    context = widget.get_context(name, value, attrs)["widget"]
    if isinstance(widget, forms.Textarea):
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            name,
            flatatt(context["attrs"]),
            context["value"] or "",
        )
    shown = context["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        context["type"],
        name,
        format_html(' value="{}"', shown) if shown is not None else "",
        flatatt(context["attrs"]),
    )


class _QuickWidget:
    """Render without a template (one render per widget costs the page ~0.3 ms)."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        return SafeString(_quick_render(cast(forms.Widget, self), name, value, attrs))


class QuickSelect(_QuickWidget, forms.Select):
    pass


class QuickTextInput(_QuickWidget, forms.TextInput):
    pass


class QuickHiddenInput(_QuickWidget, forms.HiddenInput):
    pass


class QuickTextarea(_QuickWidget, forms.Textarea):
    pass


class QuickURLInput(_QuickWidget, forms.URLInput):
    pass


# Only these exact classes: subclasses may render differently.
QUICK_WIDGETS: dict[type[forms.Widget], type[forms.Widget]] = {
    forms.TextInput: QuickTextInput,
    forms.HiddenInput: QuickHiddenInput,
    forms.Textarea: QuickTextarea,
    forms.URLInput: QuickURLInput,
}


def staff_options(empty_label: Any) -> list[tuple[str, str]]:
    """The assignee select's options: nobody, then ``queues.staff_choices()``.

    The same list, in the same order (by name), as the queue's assignee filter.
    Validation still goes through the field's queryset.
    """
    return list(_StaffOptions(empty_label))


class _StaffOptions:
    """The assignee options, read when the select is rendered, not when built.

    A form that is only validated (a save that redirects) never reads them, and
    the select's ``required`` check reads only the first ("Unassigned").
    """

    def __init__(self, empty_label: Any) -> None:
        self.empty_label = empty_label

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield "", str(self.empty_label)
        for person in queues.staff_choices():
            yield str(person.pk), person.display_name


VISIBILITY_CHOICES = [("public", _("Public reply")), ("internal", _("Internal note"))]


class TicketPageForm(TicketTriageForm):
    """The triage form plus what the page needs to detect a collision.

    ``seen`` carries the ticket as the page showed it (``collision.Seen``);
    ``view`` the queue the engineer came from, for "Save and next".
    """

    seen = forms.CharField(widget=forms.HiddenInput, required=False)
    view = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)

    class Meta(TicketTriageForm.Meta):
        fields = (*TicketTriageForm.Meta.fields,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reply"].widget.attrs.update(
            {"rows": 7, "placeholder": _("Write a reply… (Markdown works)")}
        )
        self.fields["priority_change_reason"].widget.attrs.update({"rows": 2})
        self.fields["reply_attachments"].widget.attrs.update({"class": "ws-files"})
        visibility = cast(forms.ChoiceField, self.fields["reply_visibility"])
        visibility.choices = VISIBILITY_CHOICES
        visibility.widget = forms.RadioSelect(choices=VISIBILITY_CHOICES)
        if "assignee" in self.fields:
            assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
            assignee.empty_label = _("Unassigned")
        if "scope_exclusion" in self.fields:
            scope = cast(forms.ChoiceField, self.fields["scope_exclusion"])
            scope.choices = [("", _("In scope")), *ScopeExclusion.choices]
        for name in ("status", "priority", "assignee", "category", "scope_exclusion"):
            if name in self.fields:
                field = cast(forms.ChoiceField, self.fields[name])
                field.widget = QuickSelect(attrs=field.widget.attrs)
                field.widget.choices = field.choices  # type: ignore[attr-defined]
        if "assignee" in self.fields:
            assignee = cast(forms.ModelChoiceField, self.fields["assignee"])
            assignee.widget.choices = _StaffOptions(assignee.empty_label)  # type: ignore[attr-defined]
        for form_field in self.fields.values():
            quick = QUICK_WIDGETS.get(type(form_field.widget))
            if quick is not None:
                form_field.widget.__class__ = quick


class BulkForm(forms.Form):
    """A bulk action on the selected tickets; ``confirm`` marks the second step."""

    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=())
    action = forms.ChoiceField(choices=list(ACTIONS.items()))
    value = forms.CharField(required=False, max_length=20)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(required=False)
    view = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any ticket id is acceptable to the form; the service finds the tickets.
        ids = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        cast(forms.ChoiceField, self.fields["tickets"]).choices = [
            (i, i) for i in ids if is_number(str(i))
        ]

    def clean_tickets(self) -> list[int]:
        """At most ``BULK_MAX`` tickets, refused before the confirmation lists them."""
        ids = cast(list[int], self.cleaned_data["tickets"])
        if len(set(ids)) > BULK_MAX:
            raise forms.ValidationError(
                _("Select at most %(n)d tickets at a time.") % {"n": BULK_MAX},
                code="too_many",
            )
        return ids

    def change(self) -> BulkChange:
        data = self.cleaned_data
        return BulkChange(
            action=data["action"], value=data.get("value") or "", text=data["text"]
        )


def value_label(change: BulkChange, people: dict[int, User]) -> str:
    """The bulk change's value as the confirmation step says it."""
    if change.action == "assign":
        person = people.get(int(change.value)) if is_number(change.value) else None
        return person.display_name if person else str(_("nobody (unassign)"))
    if change.action == "status":
        return str(Status(change.value).label)
    if change.action == "priority":
        return str(Priority(int(change.value)).label)
    return ""


class SaveViewForm(forms.Form):
    name = forms.CharField(max_length=60, label=_("Name"))
    query = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
    shared = forms.BooleanField(required=False, label=_("Share with everyone"))


class MacroAdminForm(forms.ModelForm):
    """Refuse placeholders macros do not know, and a priority without a reason."""

    class Meta:
        model = Macro
        fields = (
            "title",
            "body",
            "is_internal",
            "owner",
            "set_status",
            "set_priority",
            "priority_reason",
            "assignee_action",
            "assignee",
        )

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        unknown = placeholder_errors(data.get("body") or "")
        if unknown:
            self.add_error(
                "body",
                _("Unknown placeholders: %(names)s. Use only those listed below.")
                % {"names": ", ".join(unknown)},
            )
        if (
            data.get("set_priority") is not None
            and not (data.get("priority_reason") or "").strip()
        ):
            self.add_error(
                "priority_reason", _("Say why; the customer sees the reason.")
            )
        if data.get("assignee_action") == "user" and not data.get("assignee"):
            self.add_error("assignee", _("Choose whom to assign to."))
        return data
