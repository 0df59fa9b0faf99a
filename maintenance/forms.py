"""Forms of the maintenance pages and admin: parse input; services decide."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MaintenanceSchedule, MaintenanceWindow, Weekday


class RemindersForm(forms.Form):
    reminders = forms.BooleanField(
        required=False,
        label=_("Email me the day before each maintenance window"),
    )


class ScheduleAdminForm(forms.ModelForm):
    """The schedule with its weekdays as checkboxes."""

    weekday_choices = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = MaintenanceSchedule
        fields = ("name", "start_time", "timezone", "duration_minutes", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["weekday_choices"] = list(self.instance.weekday_numbers)


class WindowAdminForm(forms.ModelForm):
    """Times, note and reason of one window; an ad-hoc window also needs a start."""

    class Meta:
        model = MaintenanceWindow
        fields = ("starts_at", "ends_at", "note", "reason")
