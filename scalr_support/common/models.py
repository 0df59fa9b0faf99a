"""Base models shared by the apps (abstract: no tables of their own)."""

from django.conf import settings
from django.db import models


class ActorAuditEntry(models.Model):
    """An audit row: who made a change (empty: the command line), what, and when.

    Concrete entries add what they are about (a window, a target, ...) and an
    ``action``; ``changes`` maps each changed field to its ``[old, new]`` values
    as text. Written in the transaction of the change, never edited afterwards.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return str(self.get_action_display())  # type: ignore[attr-defined]
