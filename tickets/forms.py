"""Portal forms: parse and check input; the services decide the rules."""

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from scalr_support.common.errors import ServiceError

from .attachments import limits_text
from .choices import (
    TEXT_MAX_LENGTH,
    Category,
    Deployment,
    Priority,
)


class LongTextField(forms.CharField):
    """A textarea with a length limit that it states next to the field.

    The browser's ``maxlength`` is left off: it cuts a long paste silently,
    whereas the server's refusal keeps every character of it in the form.
    """

    def __init__(
        self, *, max_length: int = TEXT_MAX_LENGTH, rows: int = 5, **kwargs: Any
    ) -> None:
        grouped = number_format(max_length, force_grouping=True)
        limit = format_lazy(_("Up to {n} characters."), n=grouped)
        help_text = kwargs.pop("help_text", "")
        kwargs["help_text"] = (
            format_lazy("{} {}", help_text, limit) if help_text else limit
        )
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        kwargs.setdefault(
            "error_messages",
            {
                "max_length": format_lazy(
                    _("Keep this under {n} characters (it has %(show_value)s)."),
                    n=grouped,
                )
            },
        )
        super().__init__(max_length=max_length, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern), limits stated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        # Read when the form is shown, so it follows the settings of the moment.
        kwargs.setdefault("help_text", lazy(limits_text, str)())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ServiceErrorMixin:
    """Show a business-rule refusal from a service next to the field it concerns.

    ``service_fields`` maps a field name the services use to this form's own.
    """

    service_fields: dict[str, str] = {}

    def add_service_error(self, error: ServiceError) -> None:
        name = self.service_fields.get(error.field or "", error.field)
        field = name if name in self.fields else None  # type: ignore[attr-defined]
        self.add_error(field, error.message)  # type: ignore[attr-defined]


class TicketForm(ServiceErrorMixin, forms.Form):
    subject = forms.CharField(max_length=200, label=_("Subject"))
    priority = forms.TypedChoiceField(
        choices=Priority.choices,
        coerce=int,
        label=_("Priority"),
        widget=forms.RadioSelect,
    )
    category = forms.ChoiceField(
        choices=[("", _("Not sure: let support decide")), *Category.choices],
        required=False,
        label=_("Category"),
        help_text=_(
            "Optional. Left open, it is read from your description (a fault is a "
            "bug, a wish an enhancement request, anything else a question)."
        ),
    )
    deployment = forms.ChoiceField(choices=Deployment.choices, label=_("Deployment"))
    version_reported = forms.CharField(
        max_length=40,
        required=False,
        label=_("Scalr version"),
        help_text=_("The version you are running, e.g. 9.4.1."),
    )
    description = LongTextField(
        rows=10,
        label=_("Description"),
        help_text=_(
            "What happened, what you expected, and steps to reproduce. Markdown works."
        ),
    )
    attachments = MultipleFileField(label=_("Attachments"))


class CommentForm(ServiceErrorMixin, forms.Form):
    body = LongTextField(
        required=False,
        label=_("Your reply"),
        help_text=_("Markdown works."),
    )
    attachments = MultipleFileField(label=_("Attachments"))


class NotificationPreferencesForm(forms.Form):
    organization_tickets = forms.BooleanField(
        required=False,
        label=_("Email me about all of my organisation's tickets"),
        help_text=_("You always receive email about tickets you opened yourself."),
    )


class SessionProposeForm(ServiceErrorMixin, forms.Form):
    """The customer's counter-proposal for a real-time session, in their timezone."""

    proposed_at = forms.DateTimeField(
        label=_("Another time that suits you"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    note = LongTextField(label=_("Note"), required=False, max_length=1000, rows=2)
