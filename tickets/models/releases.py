"""Scalr releases, for the support lifecycle."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Release(models.Model):
    """A Scalr release; which versions are supported is computed from these.

    Recorded by managers in the admin. The lifecycle (``tickets.lifecycle``) takes
    a major's release date to be the date of its first release.
    """

    version = models.CharField(max_length=40, unique=True)
    major = models.PositiveIntegerField()
    released_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-released_on", "-major", "-version")

    def __str__(self) -> str:
        return self.version

    def clean(self) -> None:
        from ..lifecycle import major_of

        if self.version and major_of(self.version) != self.major:
            raise ValidationError(
                {"major": _("The version's first number is its major release.")}
            )
