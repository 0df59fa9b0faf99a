"""Forms of the organisation page and of the invitation's acceptance."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.utils.translation import gettext_lazy as _

from .forms import ServiceErrorMixin


class InvitationForm(ServiceErrorMixin, forms.Form):
    email = forms.EmailField(label=_("Colleague's email"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    technical_contact = forms.BooleanField(
        label=_("Technical contact (may open tickets)"), required=False
    )


class ContactRolesForm(forms.Form):
    technical_contact = forms.BooleanField(required=False)
    organization_admin = forms.BooleanField(required=False)


class AcceptInvitationForm(ServiceErrorMixin, forms.Form):
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=" ".join(str(text) for text in password_validators_help_texts()),
    )
    password_again = forms.CharField(
        label=_("The password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data
