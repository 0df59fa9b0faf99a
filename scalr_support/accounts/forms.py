from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import available_timezones


class EmailAuthenticationForm(AuthenticationForm):
    """Sign in with an email address; the same message whatever went wrong."""

    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email and password do not match an active account."),
        "inactive": _("That email and password do not match an active account."),
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class ApiTokenForm(forms.Form):
    """Name a new API token; the services decide the rules."""

    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Where you will use it, e.g. 'CI pipeline' or 'Terraform'."),
    )


class TimeZoneForm(forms.Form):
    """The zone a staff member's pages show times in."""

    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_("Every time on the admin and portal pages is shown in it."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["time_zone"])
        field.choices = [
            ("", _("UTC (the default)")),
            *((zone, zone.replace("_", " ")) for zone in sorted(available_timezones())),
        ]
